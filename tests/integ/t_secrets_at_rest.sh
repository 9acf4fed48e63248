#!/bin/bash
# DESIGN.md §1: client secrets and passwords are stored only as argon2id hashes.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

init_db
authd resource add https://mcp.example.com --scopes read >/dev/null
SECRET=$(authd --json client add --name c --resource https://mcp.example.com | jq -r .client_secret)
PASSWORD=$(authd --json user add alice </dev/null | jq -r .password)
REGTOKEN=$(authd --json client registration-token | jq -r .registration_token)
like "$SECRET" '^[A-Za-z0-9_-]{43}$' "got a client secret"
like "$PASSWORD" '^[A-Za-z0-9_-]{24}$' "got a password"
# Everything SQLite wrote: the main file, and the WAL if it is still there.
db_dump "$T/all-bytes"
grep -c -- "$SECRET" "$T/all-bytes" >/dev/null; is $? 1 "client secret not in the database files"
grep -c -- "$PASSWORD" "$T/all-bytes" >/dev/null; is $? 1 "password not in the database files"
grep -c -- "$REGTOKEN" "$T/all-bytes" >/dev/null; is $? 1 "registration token not stored in clear"
grep -c -a -- '\$argon2id\$v=19\$m=19456,t=2,p=1\$' "$T/all-bytes" >/dev/null
is $? 0 "argon2id hashes are there instead"
grep -c -a -- "BEGIN PRIVATE KEY" "$T/all-bytes" >/dev/null; is $? 1 "no PEM private key"
done_testing
