#!/bin/bash
# A body over max_body gets its 413, whatever the client: the server reads and drops the
# rest of the upload (up to 8 MiB) before answering, instead of closing with unread data,
# which the kernel answers with a reset that most clients report instead of the 413.
# Node's fetch (undici) and a raw socket that keeps writing, at every endpoint that takes
# a body.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

IOP=$TOP_SRCDIR/tests/interop
NODE=$IOP/node_modules/.bin/node
[ -x "$NODE" ] || NODE=$(command -v node)
[ -n "$NODE" ] || skip_all "node is not installed"

init_db
start_serve
MIB=$((1024 * 1024))
for path in /token /revoke /introspect /register /authorize /connections; do
	out=$("$NODE" "$TOP_SRCDIR/tests/integ/oversized.mjs" "$BASE$path" "$MIB" 20)
	is "$(sort <<<"$out" | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ')" "20 413 " \
		"$path: Node's fetch, 1 MiB twenty times: twenty 413s, no reset"
	out=$("$PYTHON3" "$TOP_SRCDIR/tests/integ/oversized.py" "$PORT" "$path" $((4 * MIB)))
	like "$out" "^HTTP/1.1 413" "$path: a raw socket writing 4 MiB without reading: 413"
done
out=$("$NODE" "$TOP_SRCDIR/tests/integ/oversized.mjs" "$BASE/register" "$MIB" 1 application/json)
is "$out" "413 invalid_request" "/register with a JSON body: 413 invalid_request"
out=$("$PYTHON3" "$TOP_SRCDIR/tests/integ/oversized.py" "$PORT" /token $((2 * MIB)) chunked)
like "$out" "^HTTP/1.1 413" "a chunked body of 2 MiB: 413"
# Past the bound the server answers at once: the client may then meet a reset, but the
# server neither waits for nor keeps what it does not read.
out=$("$PYTHON3" "$TOP_SRCDIR/tests/integ/oversized.py" "$PORT" /token $((64 * MIB)))
like "$out" "^(HTTP/1.1 413|failed)" "64 MiB: answered or cut off, not read to the end"
req GET "$BASE/readyz"
is "$STATUS" 200 "the server is fine afterwards"
stop_serve
done_testing
