/* What a third party's token answer may say (oauth/thirdparty.h): thirdparty_parse accepts
 * a well-formed answer, tells a refused grant (invalid_grant: connect again) from every
 * other failure (may pass later), and its message never carries a token. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "oauth/thirdparty.h"
#include "tap.h"

/* Every token of these answers starts so: no error message may hold it. */
#define AT "SECRET-AT-0123456789"
#define RT "SECRET-RT-9876543210"

static struct thirdparty_tokens got;
static char err[256];

/* Parse status and body (its length as given); on a failure, check what every failure
 * must hold: a message, no token in it, nothing left in out. */
static enum thirdparty_outcome
parse_len(long status, const char *body, size_t len)
{
	enum thirdparty_outcome o;

	thirdparty_tokens_clear(&got);
	memset(err, 'x', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	o = thirdparty_parse(status, body, len, &got, err, sizeof(err));
	if (o != THIRDPARTY_OK) {
		if (strcmp(err, "") == 0 || err[0] == 'x')
			tap_diag("no message for %ld %.60s", status, body ? body : "(null)");
		if (strstr(err, "SECRET") != NULL) {
			tap_diag("a token in the message: %s", err);
			return (enum thirdparty_outcome)-1;
		}
		if (err[0] == 'x' || err[0] == '\0')
			return (enum thirdparty_outcome)-2;
		if (got.access_token != NULL || got.refresh_token != NULL || got.scope != NULL ||
		    got.expires_in != 0 || got.bearer != 0)
			return (enum thirdparty_outcome)-3;
	}
	return o;
}

static enum thirdparty_outcome
parse(long status, const char *body)
{
	return parse_len(status, body, body != NULL ? strlen(body) : 0);
}

/* A 200 answer with the members given (JSON text, without braces) around a good token. */
static enum thirdparty_outcome
with(const char *members)
{
	char body[4096];

	snprintf(body, sizeof(body), "{\"access_token\": \"" AT "\", \"token_type\": \"Bearer\"%s%s}",
	    members[0] ? ", " : "", members);
	return parse(200, body);
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	memcpy(s, "SECRET", n < 6 ? n : 6);
	s[n] = '\0';
	return s;
}

/* {"access_token": "<n characters>"} or with refresh_token of n characters. */
static enum thirdparty_outcome
sized(const char *member, size_t n)
{
	char *tok = repeat('a', n), *body = malloc(n + 200);
	enum thirdparty_outcome o;

	if (strcmp(member, "access_token") == 0)
		sprintf(body, "{\"access_token\": \"%s\"}", tok);
	else
		sprintf(body, "{\"access_token\": \"" AT "\", \"%s\": \"%s\"}", member, tok);
	o = parse(200, body);
	free(tok);
	free(body);
	return o;
}

static void
accepted(void)
{
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"Bearer\", "
	    "\"expires_in\": 3600, \"refresh_token\": \"" RT "\", \"scope\": \"repo read:user\"}"),
	    THIRDPARTY_OK, "a full answer: accepted");
	is_str(got.access_token, AT, "the access token as sent");
	is_str(got.refresh_token, RT, "the refresh token as sent");
	is_str(got.scope, "repo read:user", "the scope as sent");
	is_int(got.expires_in, 3600, "expires_in");
	ok(got.bearer, "token_type Bearer");

	is_int(parse(200, "{\"access_token\": \"" AT "\"}"), THIRDPARTY_OK,
	    "only an access token: accepted");
	ok(got.refresh_token == NULL && got.scope == NULL && got.expires_in == 0 && !got.bearer,
	    "nothing else said: no refresh token, no scope, expires_in 0, not said Bearer");
	is_int(parse(200, "  {\"access_token\": \"" AT "\"}\n"), THIRDPARTY_OK,
	    "white space around the object: accepted");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"id_token\": \"x.y.z\", \"extra\": {\"a\": [1, 2]}}"),
	    THIRDPARTY_OK, "members we do not know: ignored");
	is_int(parse(200, "{\"access_token\": \"a token with spaces ~!\"}"), THIRDPARTY_OK,
	    "printable ASCII with spaces (RFC 6749 VSCHAR): accepted");
	is_str(got.access_token, "a token with spaces ~!", "and kept exactly");
	/* The length given is what counts, not a NUL. */
	is_int(parse_len(200, "{\"access_token\": \"" AT "\"}trailing garbage",
	    sizeof("{\"access_token\": \"" AT "\"}") - 1), THIRDPARTY_OK,
	    "the body's length is what is parsed");
}

static void
statuses(void)
{
	is_int(parse(400, "{\"error\": \"invalid_grant\"}"), THIRDPARTY_REFUSED,
	    "400 invalid_grant: refused (connect again)");
	ok(strstr(err, "400") != NULL && strstr(err, "invalid_grant") != NULL,
	    "the message names the status and the error (%s)", err);
	is_int(parse(401, "{\"error\": \"invalid_grant\", \"error_description\": \"revoked\"}"),
	    THIRDPARTY_REFUSED, "401 invalid_grant: refused");
	is_int(parse(400, "{\"error\": \"invalid_client\"}"), THIRDPARTY_FAILED,
	    "400 invalid_client: failed (ours to mend, not the user's)");
	is_int(parse(401, "{\"error\": \"invalid_client\"}"), THIRDPARTY_FAILED, "401 invalid_client: failed");
	is_int(parse(401, ""), THIRDPARTY_FAILED, "401 without a body: failed");
	is_int(parse(400, "{\"error\": \"invalid_request\"}"), THIRDPARTY_FAILED, "400 invalid_request: failed");
	is_int(parse(400, "{\"error\": \"unauthorized_client\"}"), THIRDPARTY_FAILED,
	    "400 unauthorized_client: failed");
	is_int(parse(403, "{\"error\": \"invalid_grant\"}"), THIRDPARTY_FAILED,
	    "403 invalid_grant: failed (only 400 and 401 say the grant is dead)");
	is_int(parse(500, "{\"error\": \"invalid_grant\"}"), THIRDPARTY_FAILED,
	    "500 invalid_grant: failed (a broken server, not a dead grant)");
	is_int(parse(503, "{\"error\": \"invalid_grant\"}"), THIRDPARTY_FAILED, "503 invalid_grant: failed");
	is_int(parse(500, "<html><body>Internal Server Error</body></html>"), THIRDPARTY_FAILED,
	    "500 with HTML: failed");
	ok(strstr(err, "500") != NULL, "the message names the status (%s)", err);
	is_int(parse(400, "<html>invalid_grant</html>"), THIRDPARTY_FAILED,
	    "400 with HTML that says invalid_grant: failed (not JSON)");
	is_int(parse(400, "{\"error\": \"INVALID_GRANT\"}"), THIRDPARTY_FAILED,
	    "400 INVALID_GRANT in capitals: failed (error codes are case-sensitive)");
	is_int(parse(400, "{\"error\": [\"invalid_grant\"]}"), THIRDPARTY_FAILED,
	    "400 with error an array: failed");
	is_int(parse(400, "{\"error\": \"invalid_grant\", \"error\": \"invalid_grant\"}"), THIRDPARTY_FAILED,
	    "400 with error twice: failed (duplicate members)");
	is_int(parse(400, "[\"invalid_grant\"]"), THIRDPARTY_FAILED, "400 with an array: failed");
	is_int(parse(400, "{\"error\": \"invalid_grant\\u0000x\"}"), THIRDPARTY_FAILED,
	    "400 with a NUL inside the error: failed");
	is_int(parse(400, "{\"error\": \"" AT "\"}"), THIRDPARTY_FAILED,
	    "400 whose error is a token: failed, and the message does not repeat it");
	is_int(parse(400, "{\"error\": \"refresh token " RT " unknown\"}"), THIRDPARTY_FAILED,
	    "400 whose error repeats the refresh token we sent: failed, the message does not");
	ok(strstr(err, "400") != NULL, "it names the status (%s)", err);
	is_int(parse(400, "{\"error\": \"\"}"), THIRDPARTY_FAILED, "400 with an empty error: failed");
	ok(err[strlen(err) - 1] != ' ', "the message does not end in a dangling separator (%s)", err);
	is_int(parse(400, "{\"error\": \"invalid_scope\"}"), THIRDPARTY_FAILED, "400 invalid_scope: failed");
	ok(strstr(err, "invalid_scope") != NULL, "a standard error code is named (%s)", err);
	is_int(parse(400, "{\"error\": \"bad\\nline\"}"), THIRDPARTY_FAILED,
	    "400 with a control character in the error: failed");
	ok(strchr(err, '\n') == NULL, "and the message has no line break (it goes to the log)");
	is_int(parse(302, ""), THIRDPARTY_FAILED, "302: failed (a redirect is not followed)");
	is_int(parse(307, "{\"access_token\": \"" AT "\"}"), THIRDPARTY_FAILED,
	    "307 with a token in the body: failed");
	is_int(parse(201, "{\"access_token\": \"" AT "\"}"), THIRDPARTY_FAILED,
	    "201 with a token: failed (only 200 is an answer)");
	is_int(parse(204, ""), THIRDPARTY_FAILED, "204: failed");
	is_int(parse(0, ""), THIRDPARTY_FAILED, "status 0: failed");
	is_int(parse(-1, NULL), THIRDPARTY_FAILED, "status -1 without a body: failed");
	is_int(parse(200, "{\"error\": \"invalid_grant\"}"), THIRDPARTY_FAILED,
	    "200 saying invalid_grant without a token: failed, not refused");
}

static void
malformed(void)
{
	char *big;

	is_int(parse(200, NULL), THIRDPARTY_FAILED, "200 without a body: failed");
	is_int(parse(200, ""), THIRDPARTY_FAILED, "200 with an empty body: failed");
	is_int(parse(200, "access_token=" AT "&token_type=bearer"), THIRDPARTY_FAILED,
	    "a form-encoded answer (not JSON): failed");
	is_int(parse(200, "<html>" AT "</html>"), THIRDPARTY_FAILED, "HTML: failed");
	is_int(parse(200, "[{\"access_token\": \"" AT "\"}]"), THIRDPARTY_FAILED, "a JSON array: failed");
	is_int(parse(200, "\"" AT "\""), THIRDPARTY_FAILED, "a JSON string: failed");
	is_int(parse(200, "null"), THIRDPARTY_FAILED, "null: failed");
	is_int(parse(200, "{\"access_token\": \"" AT "\""), THIRDPARTY_FAILED, "a cut object: failed");
	is_int(parse(200, "{\"access_token\": \"" AT "\"} {}"), THIRDPARTY_FAILED,
	    "two objects: failed");
	is_int(parse_len(200, "{\"access_token\": \"" AT "\"}\0{}",
	    sizeof("{\"access_token\": \"" AT "\"}\0{}") - 1), THIRDPARTY_FAILED,
	    "a NUL after the object: failed");
	is_int(parse(200, "{}"), THIRDPARTY_FAILED, "no access_token: failed");
	is_int(parse(200, "{\"access_token\": \"\"}"), THIRDPARTY_FAILED, "an empty access_token: failed");
	is_int(parse(200, "{\"access_token\": null}"), THIRDPARTY_FAILED, "access_token null: failed");
	is_int(parse(200, "{\"access_token\": 12345}"), THIRDPARTY_FAILED, "access_token a number: failed");
	is_int(parse(200, "{\"access_token\": true}"), THIRDPARTY_FAILED, "access_token true: failed");
	is_int(parse(200, "{\"access_token\": [\"" AT "\"]}"), THIRDPARTY_FAILED,
	    "access_token an array: failed");
	is_int(parse(200, "{\"access_token\": {\"v\": \"" AT "\"}}"), THIRDPARTY_FAILED,
	    "access_token an object: failed");
	is_int(parse(200, "{\"access_token\": \"SECRET\\u0001AT\"}"), THIRDPARTY_FAILED,
	    "a control character in access_token: failed");
	is_int(parse(200, "{\"access_token\": \"SECRET-AT\\r\\nX-Injected: 1\"}"), THIRDPARTY_FAILED,
	    "CR LF in access_token (header injection downstream): failed");
	is_int(parse(200, "{\"access_token\": \"SECRET-AT\\u007f\"}"), THIRDPARTY_FAILED,
	    "DEL in access_token: failed");
	is_int(parse(200, "{\"access_token\": \"SECRET-AT\\u0000tail\"}"), THIRDPARTY_FAILED,
	    "a NUL inside access_token: failed (it would be cut short)");
	is_int(parse(200, "{\"access_token\": \"SECRET-\xc3\xa9t\xc3\xa9\"}"), THIRDPARTY_FAILED,
	    "non-ASCII in access_token: failed");
	is_int(parse(200, "{\"access_token\": \"SECRET-\xff\"}"), THIRDPARTY_FAILED,
	    "invalid UTF-8: failed");
	is_int(sized("access_token", THIRDPARTY_TOKEN_MAX), THIRDPARTY_OK, "an access_token of 8 KiB: accepted");
	ok(got.access_token != NULL && strlen(got.access_token) == THIRDPARTY_TOKEN_MAX, "kept whole");
	is_int(sized("access_token", THIRDPARTY_TOKEN_MAX + 1), THIRDPARTY_FAILED,
	    "an access_token over 8 KiB: failed");
	is_int(sized("access_token", 60000), THIRDPARTY_FAILED, "an access_token of 60 KB: failed");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"access_token\": \"SECRET-other\"}"),
	    THIRDPARTY_FAILED, "access_token twice: failed (duplicate members)");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"refresh_token\": \"" RT "\", "
	    "\"refresh_token\": \"SECRET-RT2\"}"), THIRDPARTY_FAILED, "refresh_token twice: failed");
	is_int(with("\"expires_in\": 60, \"expires_in\": 3600"), THIRDPARTY_FAILED, "expires_in twice: failed");
	is_int(with("\"scope\": \"a\", \"scope\": \"b\""), THIRDPARTY_FAILED, "scope twice: failed");
	/* Deep nesting must not take the parser down. */
	big = malloc(200000 + 100);
	strcpy(big, "{\"access_token\": \"" AT "\", \"x\": ");
	memset(big + strlen(big), '[', 100000);
	big[strlen("{\"access_token\": \"" AT "\", \"x\": ") + 100000] = '\0';
	is_int(parse(200, big), THIRDPARTY_FAILED, "100000 nested arrays: failed, no crash");
	free(big);
}

static void
refresh_tokens(void)
{
	is_int(with(""), THIRDPARTY_OK, "refresh_token absent: accepted");
	ok(got.refresh_token == NULL, "no refresh token");
	is_int(with("\"refresh_token\": null"), THIRDPARTY_OK, "refresh_token null: accepted");
	ok(got.refresh_token == NULL, "as none");
	is_int(with("\"refresh_token\": \"\""), THIRDPARTY_FAILED, "an empty refresh_token: failed");
	is_int(with("\"refresh_token\": 42"), THIRDPARTY_FAILED, "refresh_token a number: failed");
	is_int(with("\"refresh_token\": false"), THIRDPARTY_FAILED, "refresh_token false: failed");
	is_int(with("\"refresh_token\": [\"" RT "\"]"), THIRDPARTY_FAILED, "refresh_token an array: failed");
	is_int(with("\"refresh_token\": \"SECRET-RT\\u0002\""), THIRDPARTY_FAILED,
	    "a control character in refresh_token: failed");
	is_int(with("\"refresh_token\": \"SECRET-RT\\n\""), THIRDPARTY_FAILED,
	    "a line break in refresh_token: failed");
	is_int(sized("refresh_token", THIRDPARTY_TOKEN_MAX), THIRDPARTY_OK, "a refresh_token of 8 KiB: accepted");
	is_int(sized("refresh_token", THIRDPARTY_TOKEN_MAX + 1), THIRDPARTY_FAILED,
	    "a refresh_token over 8 KiB: failed");
}

static void
expiry(void)
{
	is_int(with("\"expires_in\": 1"), THIRDPARTY_OK, "expires_in 1: accepted");
	is_int(got.expires_in, 1, "1");
	is_int(with("\"expires_in\": 0"), THIRDPARTY_OK, "expires_in 0: accepted");
	is_int(got.expires_in, 1, "as over at once (1), not as never said (0)");
	is_int(with("\"expires_in\": \"0\""), THIRDPARTY_OK, "expires_in \"0\": accepted");
	is_int(got.expires_in, 1, "as over at once too");
	is_int(with("\"expires_in\": null"), THIRDPARTY_OK, "expires_in null: as not said");
	is_int(got.expires_in, 0, "0");
	is_int(with("\"expires_in\": \"3600\""), THIRDPARTY_OK, "expires_in a string of digits: accepted");
	is_int(got.expires_in, 3600, "as its number");
	is_int(with("\"expires_in\": 315360000"), THIRDPARTY_OK, "expires_in ten years: accepted");
	is_int(got.expires_in, 315360000, "ten years");
	is_int(with("\"expires_in\": \"315360000\""), THIRDPARTY_OK, "ten years as a string: accepted");
	is_int(with("\"expires_in\": 315360001"), THIRDPARTY_FAILED, "over ten years: failed");
	is_int(with("\"expires_in\": \"315360001\""), THIRDPARTY_FAILED, "over ten years as a string: failed");
	is_int(with("\"expires_in\": 9223372036854775807"), THIRDPARTY_FAILED, "INT64_MAX: failed");
	is_int(with("\"expires_in\": 99999999999999999999999"), THIRDPARTY_FAILED,
	    "a number beyond 64 bits: failed");
	is_int(with("\"expires_in\": \"9999999999\""), THIRDPARTY_FAILED, "ten digits, too big: failed");
	is_int(with("\"expires_in\": \"99999999999999999999999\""), THIRDPARTY_FAILED,
	    "a string of digits beyond 64 bits: failed");
	is_int(with("\"expires_in\": \"00000000003600\""), THIRDPARTY_FAILED,
	    "a string of more than ten digits: failed");
	is_int(with("\"expires_in\": -1"), THIRDPARTY_FAILED, "expires_in -1: failed");
	is_int(with("\"expires_in\": -9223372036854775807"), THIRDPARTY_FAILED, "a huge negative: failed");
	is_int(with("\"expires_in\": \"-1\""), THIRDPARTY_FAILED, "\"-1\": failed");
	is_int(with("\"expires_in\": \"+60\""), THIRDPARTY_FAILED, "\"+60\": failed");
	is_int(with("\"expires_in\": \" 60\""), THIRDPARTY_FAILED, "\" 60\": failed");
	is_int(with("\"expires_in\": \"60 \""), THIRDPARTY_FAILED, "\"60 \": failed");
	is_int(with("\"expires_in\": \"0x3c\""), THIRDPARTY_FAILED, "hexadecimal: failed");
	is_int(with("\"expires_in\": \"soon\""), THIRDPARTY_FAILED, "a word: failed");
	is_int(with("\"expires_in\": \"\""), THIRDPARTY_FAILED, "an empty string: failed");
	is_int(with("\"expires_in\": 3600.5"), THIRDPARTY_FAILED, "a fraction: failed");
	is_int(with("\"expires_in\": 1e3"), THIRDPARTY_FAILED, "an exponent: failed");
	is_int(with("\"expires_in\": true"), THIRDPARTY_FAILED, "true: failed");
	is_int(with("\"expires_in\": [3600]"), THIRDPARTY_FAILED, "an array: failed");
	is_int(with("\"expires_in\": {}"), THIRDPARTY_FAILED, "an object: failed");
	is_int(with("\"expires_in\": \"36\\u000000\""), THIRDPARTY_FAILED, "a NUL inside the string: failed");
}

static void
scopes(void)
{
	char *long_scope, body[4200];

	is_int(with("\"scope\": \"repo\""), THIRDPARTY_OK, "scope: accepted");
	is_str(got.scope, "repo", "kept");
	is_int(with("\"scope\": \"repo,read:user\""), THIRDPARTY_OK, "scopes joined with commas: accepted");
	is_str(got.scope, "repo,read:user", "kept as said");
	is_int(with("\"scope\": \"\""), THIRDPARTY_OK, "an empty scope: accepted");
	is_str(got.scope, "", "kept empty");
	is_int(with("\"scope\": null"), THIRDPARTY_OK, "scope null: as not said");
	ok(got.scope == NULL, "none");
	is_int(with("\"scope\": 7"), THIRDPARTY_FAILED, "scope a number: failed");
	is_int(with("\"scope\": [\"repo\", \"user\"]"), THIRDPARTY_FAILED, "scope an array: failed");
	is_int(with("\"scope\": \"repo\\nuser\""), THIRDPARTY_FAILED, "a line break in scope: failed");
	is_int(with("\"scope\": \"r\xc3\xa9po\""), THIRDPARTY_FAILED, "non-ASCII in scope: failed");
	long_scope = repeat('s', 2048);
	snprintf(body, sizeof(body), "\"scope\": \"%s\"", long_scope);
	is_int(with(body), THIRDPARTY_OK, "a scope of 2048 characters: accepted");
	free(long_scope);
	long_scope = repeat('s', 2049);
	snprintf(body, sizeof(body), "\"scope\": \"%s\"", long_scope);
	is_int(with(body), THIRDPARTY_FAILED, "2049: failed");
	free(long_scope);
}

static void
token_types(void)
{
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"bearer\"}"), THIRDPARTY_OK,
	    "token_type bearer: accepted");
	ok(got.bearer, "as Bearer");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"BEARER\"}"), THIRDPARTY_OK,
	    "token_type BEARER: accepted");
	ok(got.bearer, "as Bearer (case-insensitive)");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"bEaReR\"}"), THIRDPARTY_OK,
	    "bEaReR");
	ok(got.bearer, "as Bearer");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"DPoP\"}"), THIRDPARTY_OK,
	    "token_type DPoP: accepted");
	ok(!got.bearer, "not as Bearer");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"bearer \"}"), THIRDPARTY_OK,
	    "\"bearer \": accepted");
	ok(!got.bearer, "not as Bearer");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"bearerx\"}"), THIRDPARTY_OK,
	    "\"bearerx\": accepted");
	ok(!got.bearer, "not as Bearer");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": 1}"), THIRDPARTY_OK,
	    "token_type a number: accepted");
	ok(!got.bearer, "not as Bearer");
	is_int(parse(200, "{\"access_token\": \"" AT "\", \"token_type\": \"bearer\\u0000x\"}"),
	    THIRDPARTY_FAILED, "a NUL in token_type: failed (not JSON we take)");
}

/* Whatever the answer, the message is one line with no token, and a failure clears out. */
static void
messages(void)
{
	static const struct {
		long status;
		const char *body;
	} cases[] = {
	    {200, "{\"access_token\": \"" AT "\", \"refresh_token\": \"SECRET\\u0001\"}"},
	    {200, "{\"access_token\": \"" AT "\", \"expires_in\": -5, \"refresh_token\": \"" RT "\"}"},
	    {200, "{\"access_token\": \"" AT "\", \"refresh_token\": \"" RT "\", \"scope\": 1}"},
	    {200, "{\"access_token\": \"" AT "\\u0001\", \"refresh_token\": \"" RT "\"}"},
	    {200, "{\"access_token\": \"" AT "\", \"access_token\": \"" AT "\"}"},
	    {400, "{\"error\": \"invalid_grant\", \"error_description\": \"" RT " was reused\"}"},
	    {400, "{\"error\": \"invalid_grant\", \"access_token\": \"" AT "\"}"},
	    {500, "{\"access_token\": \"" AT "\", \"refresh_token\": \"" RT "\"}"},
	    {302, "<a href=\"https://elsewhere/?t=" AT "\">moved</a>"},
	};
	size_t i;
	int clean = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum thirdparty_outcome o = parse(cases[i].status, cases[i].body);

		if (o != THIRDPARTY_FAILED && o != THIRDPARTY_REFUSED) {
			tap_diag("case %zu: %d (%s)", i, (int)o, err);
			clean = 0;
		}
		if (strchr(err, '\n') != NULL)
			clean = 0;
	}
	ok(clean, "failures whose answers carry tokens: each a one-line message without them, "
	    "nothing left in out");
	/* A message cut short to fit stays a string. */
	thirdparty_tokens_clear(&got);
	memset(err, 'x', 8);
	ok(thirdparty_parse(500, "{}", 2, &got, err, 8) == THIRDPARTY_FAILED && strlen(err) == 7,
	    "a short message buffer: cut, NUL-terminated");
	thirdparty_tokens_clear(&got);
}

int
main(void)
{
	accepted();
	statuses();
	malformed();
	refresh_tokens();
	expiry();
	scopes();
	token_types();
	messages();
	thirdparty_tokens_clear(&got);
	return tap_done();
}
