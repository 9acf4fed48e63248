#!/bin/bash
# The CLI contract of DESIGN.md §6: commands, --json, exit statuses 0/1/2.
. "${TOP_SRCDIR:-.}/tests/integ/lib.sh"

authd >/dev/null 2>&1; is $? 2 "no command is misuse (2)"
authd frobnicate >/dev/null 2>&1; is $? 2 "unknown command is misuse (2)"
authd --help | grep -q "token mint"; ok $? "--help lists the commands"
# Every form the man page documents (man/mcp-authd.8), the key-based ones included.
like "$(authd --help)" 'idp add NAME --issuer URL \(--jwks-uri URL \| --jwks-file F\) --id-jag' \
	"--help lists idp add for ID-JAG issuers"
like "$(authd --help)" '--id-jag-clients "id1 id2"' "with --id-jag-clients"
like "$(authd --help)" '\[--jwks-file F \| --jwks-uri URL\]' "and client add with keys"
authd user list >/dev/null 2>"$T/err"; is $? 1 "command without a database is a user error (1)"
like "$(cat "$T/err")" "run 'mcp-authd init" "and says how to fix it"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "in one line"

# init
authd init >/dev/null 2>&1; is $? 2 "init without --issuer is misuse"
MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd init --issuer http://as.example >/dev/null 2>"$T/err"
is $? 1 "an http issuer is refused without allow_insecure_issuer"
authd init --issuer 'https://as.example/?q=1' >/dev/null 2>&1; is $? 1 "issuer with a query refused"
init_db
test -f "$MCP_AUTHD_MASTER_KEY_FILE"; ok $? "init created the master key file"
is "$(stat -c %a "$MCP_AUTHD_MASTER_KEY_FILE")" 600 "master key file is 0600"
out=$(authd --json init --issuer "$ISSUER"); ok $? "init again upgrades in place"
is "$(echo "$out" | jq -r .schema_version)" "$(ls "$TOP_SRCDIR"/sql/sqlite/[0-9]*.sql | wc -l)" \
	"schema version: every migration applied"
is "$(echo "$out" | jq -r .master_key_created)" false "the existing master key is kept"

# keys
is "$(authd keys list --json | jq -r '[.[].state] | sort | join(",")')" "active,next" \
	"init made an active and a next key"
is "$(authd keys list --json | jq -r '.[0].alg')" ES256 "ES256 by default"
authd keys rotate >/dev/null 2>"$T/err"; is $? 1 "rotation refused before jwks_max_age"
like "$(cat "$T/err")" "jwks_max_age" "and says why"
authd keys rotate --jwks-max-age 0 >/dev/null; is $? 0 "rotation once the next key is old enough"
is "$(authd keys list --json | jq -r '[.[].state] | sort | join(",")')" "active,next,retired" \
	"next became active, active retired"
is "$(authd --json keys rotate --alg EdDSA | jq -r .result)" staged "switching to EdDSA stages a key"
is "$(authd --json keys rotate --alg EdDSA --jwks-max-age 0 | jq -r .result)" rotated \
	"then promotes it"
is "$(authd keys list --json | jq -r '.[] | select(.state == "active") | .alg')" EdDSA \
	"EdDSA signs now"
authd keys rotate --alg HS256 >/dev/null 2>&1; is $? 2 "an unknown --alg is misuse"
authd keys frob >/dev/null 2>&1; is $? 2 "unknown keys subcommand is misuse"

# users
printf 's3cret-pass\n' | authd user add alice --password-stdin >/dev/null; ok $? "user add"
printf 'x\n' | authd user add alice --password-stdin >/dev/null 2>&1; is $? 1 "duplicate user"
out=$(authd --json user add bob </dev/null); ok $? "user add without a terminal"
like "$(echo "$out" | jq -r .password)" '^[A-Za-z0-9_-]{24}$' "generates a password shown once"
authd user add 'bad name' --password-stdin </dev/null >/dev/null 2>&1; is $? 1 "bad user name"
is "$(authd user list --json | jq -r '[.[].name] | join(",")')" "alice,bob" "user list"
authd user disable bob >/dev/null; ok $? "user disable"
is "$(authd user list --json | jq -r '.[] | select(.name == "bob") | .disabled')" true "disabled"
authd user disable nobody >/dev/null 2>&1; is $? 1 "disable unknown user"

# resources
authd resource add https://MCP.Example.com:443/mcp --name "Files" --scopes "files:read files:write" \
	--default-scopes files:read >/dev/null; ok $? "resource add"
authd resource add https://mcp.example.com/mcp/ >/dev/null 2>&1; is $? 1 \
	"the same resource spelled differently is a duplicate"
authd resource add 'https://mcp.example.com/x#frag' >/dev/null 2>&1; is $? 1 "fragment refused"
authd resource add 'https://mcp.example.com/x?q' >/dev/null 2>&1; is $? 1 "query refused"
authd resource add 'ftp://mcp.example.com/' >/dev/null 2>&1; is $? 1 "non-http scheme refused"
authd resource add https://b.example.com --scopes "a b" --default-scopes c >/dev/null 2>&1
is $? 1 "default scopes outside the scopes refused"
authd resource add https://b.example.com --scopes 'bad"scope' >/dev/null 2>&1; is $? 1 \
	"invalid scope token refused"
authd resource add https://calendar.example.com --scopes "cal:read" --ttl 120 >/dev/null; ok $? \
	"second resource"
r=$(authd resource list --json)
is "$(echo "$r" | jq -r '.resources[0].uri')" "https://calendar.example.com" "registered form kept"
is "$(echo "$r" | jq -r '.resources[1].uri')" "https://mcp.example.com/mcp" \
	"scheme/host lower-cased, default port dropped"
is "$(echo "$r" | jq -r '.resources[0].access_token_ttl')" 120 "per-resource ttl"
authd resource allow-exchange https://mcp.example.com/mcp https://calendar.example.com \
	--scopes cal:read >/dev/null; ok $? "allow-exchange"
authd resource allow-exchange https://mcp.example.com/mcp https://calendar.example.com \
	--scopes cal:write >/dev/null 2>&1; is $? 1 "edge scopes must be the target's"
authd resource allow-exchange https://mcp.example.com/mcp https://nowhere.example >/dev/null 2>&1
is $? 1 "edge to an unknown resource"
is "$(authd resource list --json | jq -c '.exchange')" \
	'[{"from":"https://mcp.example.com/mcp","to":"https://calendar.example.com","scopes":"cal:read"}]' \
	"edge listed"
m=$(authd resource metadata https://mcp.example.com/mcp/)
is "$(echo "$m" | jq -r .resource)" "https://mcp.example.com/mcp" "RFC 9728 resource"
is "$(echo "$m" | jq -c .authorization_servers)" "[\"$ISSUER\"]" "names our issuer"
is "$(echo "$m" | jq -c .scopes_supported)" '["files:read","files:write"]' "scopes_supported"
authd resource add >/dev/null 2>&1; is $? 2 "resource add without URI is misuse"

# clients
out=$(authd --json client add --name "Files MCP" --acts-for https://mcp.example.com/mcp)
ok $? "confidential client acting for a resource"
CID=$(echo "$out" | jq -r .client_id)
SECRET=$(echo "$out" | jq -r .client_secret)
like "$SECRET" '^[A-Za-z0-9_-]{43}$' "secret of 256 bits, shown once"
like "$(echo "$out" | jq -r .grant_types)" "token-exchange" "grant derived from --acts-for"
out=$(authd --json client add --name App --public --redirect-uri http://127.0.0.1/cb)
ok $? "public client"
is "$(echo "$out" | jq -r 'has("client_secret")')" false "no secret for a public client"
authd client add --name X --public --resource https://mcp.example.com/mcp >/dev/null 2>&1
is $? 1 "public client with client_credentials refused"
authd client add --name X --redirect-uri http://app.example/cb >/dev/null 2>&1
is $? 1 "plain http redirect URI refused"
authd client add --name X --redirect-uri 'https://app.example/cb#x' >/dev/null 2>&1
is $? 1 "redirect URI with a fragment refused"
authd client add --name X --grant authorization_code >/dev/null 2>&1
is $? 1 "authorization_code without redirect URI refused"
authd client add --name X --grant implicit --redirect-uri https://a.example/cb >/dev/null 2>&1
is $? 1 "unknown grant type refused"
authd client add --name X --resource https://nowhere.example >/dev/null 2>&1
is $? 1 "unknown resource refused"
authd client add --redirect-uri https://a.example/cb >/dev/null 2>&1; is $? 2 "no --name is misuse"
is "$(authd client list --json | jq -r 'length')" 2 "client list"
is "$(authd client list --json | jq -r '.[0].acts_for')" "https://mcp.example.com/mcp" "acts_for listed"
tok=$(authd --json client registration-token --ttl 60 | jq -r .registration_token)
like "$tok" '^[A-Za-z0-9_-]{43}$' "registration token"
authd client remove "$CID" >/dev/null; ok $? "client remove"
authd client remove "$CID" >/dev/null 2>&1; is $? 1 "remove twice"

# token mint
jwt=$(authd token mint --resource https://mcp.example.com/mcp --sub alice)
ok $? "token mint"
is "$(jwt_json 2 "$jwt" | jq -r .aud)" "https://mcp.example.com/mcp" "aud is the registered resource"
is "$(jwt_json 1 "$jwt" | jq -r .typ)" "at+jwt" "typ at+jwt"
is "$(authd --json token mint --resource https://mcp.example.com/mcp --sub a | jq -r .token_type)" \
	Bearer "--json gives {access_token, ...}"
authd token mint --resource https://nowhere.example --sub a >/dev/null 2>&1; is $? 1 \
	"unknown resource: no token"
authd token mint --resource https://mcp.example.com/mcp --sub a --scope admin >/dev/null 2>&1
is $? 1 "scope outside the resource's: no token"
authd token mint --sub a >/dev/null 2>&1; is $? 2 "missing --resource is misuse"

# identity providers (DESIGN.md §10.3)
IDP_ISSUER=https://login.corp.example/tenant
authd idp add corp --client-id authd >/dev/null 2>&1; is $? 2 "idp add without --issuer is misuse"
authd idp add Corp --issuer "$IDP_ISSUER" --client-id authd >/dev/null 2>&1; is $? 1 \
	"an upper-case provider name is refused (it is part of the callback URI)"
MCP_AUTHD_ALLOW_INSECURE_ISSUER=false authd idp add corp --issuer http://login.corp.example \
	--client-id authd >/dev/null 2>&1; is $? 1 "an http issuer is refused without allow_insecure_issuer"
authd idp add corp --issuer "$IDP_ISSUER?x=1" --client-id authd >/dev/null 2>&1; is $? 1 \
	"an issuer with a query is refused"
authd idp add corp --issuer "$IDP_ISSUER" --client-id authd --scopes "email profile" >/dev/null \
	2>&1; is $? 1 "scopes without openid are refused"
authd idp add corp --issuer "$IDP_ISSUER" --client-id authd --jit --no-jit >/dev/null 2>&1
is $? 2 "--jit and --no-jit together are misuse"
authd idp add corp --issuer "$IDP_ISSUER" --client-id authd --client-secret-stdin </dev/null \
	>/dev/null 2>&1; is $? 1 "--client-secret-stdin with nothing on standard input is refused"
IDP_SECRET=upstream-Secret-$RANDOM$RANDOM
out=$(printf '%s\n' "$IDP_SECRET" | authd --json idp add corp --issuer "$IDP_ISSUER" \
	--client-id authd --client-secret-stdin --display-name "Corp SSO" --jit \
	--allowed-groups "eng ops" --claim-groups roles)
ok $? "idp add with a secret on standard input"
is "$(echo "$out" | jq -r .redirect_uri)" "$ISSUER/idp/corp/callback" \
	"prints the redirect URI to register at the provider"
authd idp add corp --issuer "$IDP_ISSUER" --client-id x >/dev/null 2>&1; is $? 1 "duplicate provider"
authd idp add google --issuer https://accounts.google.com --client-id g >/dev/null
ok $? "a second provider, no secret"
list=$(authd --json idp list)
is "$(echo "$list" | jq -r '[.[].name] | join(",")')" "corp,google" "idp list"
is "$(echo "$list" | jq -c '.[0] | [.display_name, .client_secret, .jit, .scopes, .claim_user, .claim_groups, .allowed_groups]')" \
	'["Corp SSO",true,true,"openid email profile","sub","roles","eng ops"]' \
	"every setting, defaults filled in; the secret only as present"
is "$(echo "$list" | jq -c '.[1] | [.client_secret, .jit, .link_verified_email, .allow_private]')" \
	'[false,false,false,false]' "no JIT, no email linking, no private addresses unless asked"
case "$list$(authd idp list)" in *"$IDP_SECRET"*) ok 1 "the secret is never listed" ;;
*) ok 0 "the secret is never listed" ;; esac
db_dump "$T/dump"
grep -qa -- "$IDP_SECRET" "$T/dump"; is $? 1 "nor kept in the clear in the database"
authd idp map corp --group eng --resource https://mcp.example.com/mcp --scopes files:read >/dev/null
ok $? "idp map"
authd idp map corp --group ops --resource https://mcp.example.com/mcp >/dev/null
ok $? "idp map without --scopes: every scope of the resource"
authd idp map corp --group eng --resource https://mcp.example.com/mcp --scopes admin >/dev/null 2>&1
is $? 1 "a scope the resource does not have is refused"
authd idp map corp --group eng --resource https://nowhere.example/mcp >/dev/null 2>&1
is $? 1 "an unknown resource is refused"
authd idp map nobody --group eng --resource https://mcp.example.com/mcp >/dev/null 2>&1
is $? 1 "an unknown provider is refused"
authd idp map corp --resource https://mcp.example.com/mcp >/dev/null 2>&1; is $? 2 \
	"idp map without --group is misuse"
is "$(authd --json idp list | jq -c '.[0].mappings')" \
	'[{"group":"eng","resource":"https://mcp.example.com/mcp","scopes":"files:read"},{"group":"ops","resource":"https://mcp.example.com/mcp","scopes":null}]' \
	"idp list shows the mappings (scopes null: every scope)"
authd idp unmap corp --group ops --resource https://mcp.example.com/mcp >/dev/null; ok $? "idp unmap"
authd idp unmap corp --group ops --resource https://mcp.example.com/mcp >/dev/null 2>&1; is $? 1 \
	"unmapping what is not mapped is a user error"
authd user add carol --idp corp --sub 00u1 >/dev/null; ok $? "user add --idp --sub pre-provisions"
authd user add carol2 --idp corp --sub 00u1 >/dev/null 2>&1; is $? 1 "one user per upstream subject"
authd user add dan --idp nobody --sub 1 >/dev/null 2>&1; is $? 1 "an unknown provider is refused"
authd user add dan --idp corp >/dev/null 2>&1; is $? 2 "--idp without --sub is misuse"
is "$(authd --json user list | jq -c '.[] | select(.name == "carol") | [.idp, .sub]')" \
	'["corp","00u1"]' "user list shows the provider and subject"

# rewrap
head -c 32 /dev/urandom | base64 >"$T/new.key"
chmod 600 "$T/new.key"
nkeys=$(authd keys list --json | jq length)
out=$(authd --json keys rewrap --new-master-key-file "$T/new.key")
is "$(echo "$out" | jq -r .rewrapped)" "$nkeys" "rewrap re-encrypts every key ($nkeys)"
is "$(echo "$out" | jq -r .idp_secrets)" 1 "and the identity provider's client secret"
authd token mint --resource https://mcp.example.com/mcp --sub a >/dev/null 2>&1; is $? 1 \
	"the old master key no longer opens the keys"
MCP_AUTHD_MASTER_KEY_FILE="$T/new.key" authd token mint --resource https://mcp.example.com/mcp \
	--sub a >/dev/null; ok $? "the new one does"

authd idp remove corp >/dev/null; ok $? "idp remove"
is "$(authd --json idp list | jq -r '[.[].name] | join(",")')" google "the other provider stays"
authd idp remove corp >/dev/null 2>&1; is $? 1 "removing it again is a user error"

# maintenance
is "$(authd --json purge | jq -r .codes)" 0 "purge runs"
if db_is_pg; then
	out=$(authd backup "$T/backup.db" 2>&1); is $? 1 "backup on PostgreSQL is refused"
	like "$out" "pg_dump" "and names pg_dump"
	[ ! -e "$T/backup.db" ]; ok $? "writing nothing"
else
authd backup "$T/backup.db" >/dev/null; ok $? "backup"
authd backup "$T/backup.db" >/dev/null 2>&1; is $? 1 "backup never overwrites"
MCP_AUTHD_DB="$T/backup.db" authd user list --json | jq -e 'length == 3' >/dev/null
ok $? "the backup opens and holds the users"
fi
authd check-config >/dev/null; ok $? "check-config"
is "$(authd --json check-config | jq -r .allow_insecure_issuer.source)" env "shows where a value came from"
printf 'issuer = https://as.example\nbogus_key = 1\n' >"$T/bad.conf"
authd --config "$T/bad.conf" check-config >/dev/null 2>"$T/err"; is $? 1 "unknown config key refused"
like "$(cat "$T/err")" "line 2" "with its line number"
authd audit tail -n 5 --json >/dev/null; ok $? "audit tail"

done_testing
