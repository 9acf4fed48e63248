/* Store locations: which backend a location names, and the form fit for logs and CLI
 * output, where no password of a PostgreSQL URI may survive. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/store.h"
#include "tap.h"

/* The masked form of in is want, and secret (may be NULL) is nowhere in it: a masker
 * that replaced the wrong span could still match a sloppy expectation, never both. */
static void
masks_to_at(const char *file, int line, const char *in, const char *want, const char *secret,
    const char *what)
{
	char *got = store_location_masked_new(in);
	int same = got != NULL && strcmp(got, want) == 0;

	tap_result(same, file, line, "%s", what);
	if (!same)
		tap_diag("got '%s', want '%s'", got ? got : "(null)", want);
	if (secret != NULL)
		tap_result(got != NULL && strstr(got, secret) == NULL, file, line,
		    "%s: the secret is gone", what);
	free(got);
}
#define masks_to(...) masks_to_at(__FILE__, __LINE__, __VA_ARGS__)

/* The secret leaves no trace, whatever the masked text looks like (for the inputs whose
 * exact masked form is a matter of taste). */
static void
hides_at(const char *file, int line, const char *in, const char *secret, const char *what)
{
	char *got = store_location_masked_new(in);
	int gone = got != NULL && strstr(got, secret) == NULL;

	tap_result(gone, file, line, "%s: the secret is gone", what);
	if (!gone)
		tap_diag("masked: %s", got ? got : "(null)");
	free(got);
}
#define hides(...) hides_at(__FILE__, __LINE__, __VA_ARGS__)

int
main(void)
{
	char *mem = store_memory_path_new();

	/* ---- which backend ---- */
	is_int(store_location_is_url("postgresql://u:p@db.example/authd"), 1, "postgresql:// is a URL");
	is_int(store_location_is_url("postgres://db.example/authd"), 1, "postgres:// is a URL");
	is_int(store_location_is_url("PostgreSQL://db.example/authd"), 1, "the scheme ignores case");
	is_int(store_location_is_url("POSTGRES://db.example"), 1, "POSTGRES:// too");
	is_int(store_location_is_url("postgresql://"), 1, "a bare scheme still names PostgreSQL");
	is_int(store_location_is_url("/var/lib/mcp-authd/authd.db"), 0, "an absolute path is SQLite");
	is_int(store_location_is_url("authd.db"), 0, "a relative path is SQLite");
	is_int(store_location_is_url("./postgresql://x"), 0, "the scheme counts only at the start");
	is_int(store_location_is_url("file:/tmp/authd.db?mode=rwc"), 0, "a file: URI is SQLite");
	is_int(store_location_is_url("file:///tmp/authd.db"), 0, "file:/// is SQLite");
	is_int(store_location_is_url(mem), 0, "a memory path is SQLite");
	is_int(store_location_is_url("postgresql:/db"), 0, "postgresql: without // is a path");
	is_int(store_location_is_url("postgresq://h/db"), 0, "a near miss of the scheme is a path");
	is_int(store_location_is_url("mysql://h/db"), 0, "another scheme is not PostgreSQL");
	is_int(store_location_is_url(""), 0, "empty is not a URL");
	is_int(store_location_is_url(NULL), 0, "NULL is not a URL");

	/* ---- SQLite locations come back unchanged (and as new strings) ---- */
	masks_to("/var/lib/mcp-authd/authd.db", "/var/lib/mcp-authd/authd.db", NULL, "SQLite path");
	masks_to("file:/tmp/a.db?password=notmine", "file:/tmp/a.db?password=notmine", NULL,
	    "a file: URI is not a PostgreSQL URI: left as it is");
	masks_to("/srv/user:pass@host.db", "/srv/user:pass@host.db", NULL,
	    "a path that looks like userinfo is left alone");
	masks_to(mem, mem, NULL, "memory path");
	{
		const char *in = "/tmp/x.db";
		char *got = store_location_masked_new(in);

		ok(got != NULL && got != in, "a new string, never the argument");
		free(got);
	}

	/* ---- userinfo ---- */
	masks_to("postgresql://authd:s3cretPW@db.example:5432/authd",
	    "postgresql://authd:****@db.example:5432/authd", "s3cretPW", "user:password@host");
	masks_to("postgres://authd:s3cretPW@db.example/authd",
	    "postgres://authd:****@db.example/authd", "s3cretPW", "postgres:// scheme");
	masks_to("POSTGRESQL://authd:s3cretPW@db.example/authd",
	    "POSTGRESQL://authd:****@db.example/authd", "s3cretPW", "upper-case scheme");
	masks_to("postgresql://authd@db.example:5432/authd?sslmode=require",
	    "postgresql://authd@db.example:5432/authd?sslmode=require", NULL,
	    "no password: untouched");
	masks_to("postgresql://db.example:5432/authd", "postgresql://db.example:5432/authd", NULL,
	    "no userinfo, a port: untouched");
	masks_to("postgresql://", "postgresql://", NULL, "a bare scheme: untouched");
	masks_to("postgresql://authd:@db.example/authd", "postgresql://authd:****@db.example/authd",
	    NULL, "an empty password is masked too (its length is not told)");
	masks_to("postgresql://authd:s3cretPW@db.example", "postgresql://authd:****@db.example",
	    "s3cretPW", "no path after the host");
	masks_to("postgresql://u:p4ss@h1:5432,h2:5433/db?target_session_attrs=read-write",
	    "postgresql://u:****@h1:5432,h2:5433/db?target_session_attrs=read-write", "p4ss",
	    "multi-host URI: password masked, hosts and ports kept");
	masks_to("postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
	    "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write", NULL,
	    "multi-host URI without password: untouched");
	masks_to("postgresql://h1,h2,h3/db", "postgresql://h1,h2,h3/db", NULL,
	    "multi-host URI without userinfo: untouched");
	masks_to("postgresql://u:p@ss@word@db.example/authd",
	    "postgresql://u:****@db.example/authd", "ss@word", "'@' inside the password");
	masks_to("postgresql://u:pa:ss:wd@db.example/authd",
	    "postgresql://u:****@db.example/authd", "ss:wd", "':' inside the password");
	masks_to("postgresql://u:a@b:c@h1:1,h2:2/db", "postgresql://u:****@h1:1,h2:2/db", "a@b:c",
	    "'@' and ':' inside the password of a multi-host URI");
	masks_to("postgresql://u:p%40ss%3Aw@db.example/authd", "postgresql://u:****@db.example/authd",
	    "p%40ss", "percent-encoded password");
	masks_to("postgresql://u:secretPW@db.example/authd?application_name=x@y",
	    "postgresql://u:****@db.example/authd?application_name=x@y", "secretPW",
	    "an '@' in the query is not the userinfo's end");

	/* ---- the password= parameter ---- */
	masks_to("postgresql://db.example/authd?password=hunter2&sslmode=require",
	    "postgresql://db.example/authd?password=****&sslmode=require", "hunter2",
	    "password= first");
	masks_to("postgresql://db.example/authd?sslmode=require&password=hunter2&connect_timeout=3",
	    "postgresql://db.example/authd?sslmode=require&password=****&connect_timeout=3",
	    "hunter2", "password= in the middle");
	masks_to("postgresql://db.example/authd?sslmode=require&password=hunter2",
	    "postgresql://db.example/authd?sslmode=require&password=****", "hunter2",
	    "password= last");
	masks_to("postgresql://db.example/authd?password=hunter2",
	    "postgresql://db.example/authd?password=****", "hunter2", "password= alone");
	masks_to("postgresql://db.example/authd?password=", "postgresql://db.example/authd?password=****",
	    NULL, "an empty password= is masked too");
	masks_to("postgresql://u@db.example/authd?user=u&password=hunter2",
	    "postgresql://u@db.example/authd?user=u&password=****", "hunter2",
	    "userinfo without password and password= later");
	masks_to("postgresql://db.example/authd?mypassword=keep&password=hunter2",
	    "postgresql://db.example/authd?mypassword=keep&password=****", "hunter2",
	    "only the parameter named password");
	masks_to("postgresql://db.example/authd?passfile=/etc/pgpass",
	    "postgresql://db.example/authd?passfile=/etc/pgpass", NULL, "passfile= is no password");
	masks_to("postgresql://db.example/authd?password=one&sslmode=require&password=two",
	    "postgresql://db.example/authd?password=****&sslmode=require&password=****", "one",
	    "password= twice: both masked");
	hides("postgresql://db.example/authd?password=one&sslmode=require&password=two", "two",
	    "password= twice, the second");
	masks_to("postgresql://u:pw1@db.example/authd?password=pw2",
	    "postgresql://u:****@db.example/authd?password=****", "pw1",
	    "userinfo and password= at once");
	hides("postgresql://u:pw1@db.example/authd?password=pw2", "pw2",
	    "userinfo and password= at once, the parameter");
	masks_to("postgresql://u:pw1@h1:5432,h2:5433/db?target_session_attrs=read-write&password=pw2",
	    "postgresql://u:****@h1:5432,h2:5433/db?target_session_attrs=read-write&password=****",
	    "pw1", "multi-host, userinfo and a password= parameter last");
	masks_to("postgresql://h/db?password=p@ss:w0rd&sslmode=disable",
	    "postgresql://h/db?password=****&sslmode=disable", "p@ss:w0rd",
	    "'@' and ':' inside a password= value");

	/* ---- what libpq itself takes for the password (it reads the userinfo up to the
	 * first '@' or '/', and a parameter's value up to the next '&'): every such
	 * password is hidden, whatever characters it holds ---- */
	hides("postgresql://u:ab?cd@db.example/authd", "ab?cd", "'?' inside the userinfo password");
	hides("postgresql://u:ab#cd@db.example/authd", "ab#cd", "'#' inside the userinfo password");
	hides("postgresql://db.example/authd?password=ab#cd", "#cd",
	    "'#' inside a password= value");
	hides("postgresql://db.example/authd?password=****hunter2", "hunter2",
	    "a password= value that starts with ****");

	/* ---- scrubbing libpq's messages in a fixed buffer: a password shorter than its
	 * mask grows the text; near the end of a full buffer nothing may go past it ---- */
	{
		char text[32];
		const char *loc = "postgresql://u:ab@db.example/authd";

		memset(text, 'x', sizeof(text));
		memcpy(text + 29, "ab", 3); /* 31 characters, the password last */
		store_scrub_password(loc, text, sizeof(text));
		ok(strlen(text) < sizeof(text) && strstr(text, "ab") == NULL,
		    "scrub: a short password at the end of a full buffer is cut, not overflowed");
		snprintf(text, sizeof(text), "FATAL: password ab for u");
		store_scrub_password(loc, text, sizeof(text));
		is_str(text, "FATAL: password **** for u", "scrub: a short password in the middle");
		snprintf(text, sizeof(text), "ab ab ab ab ab ab ab ab ab ab");
		store_scrub_password(loc, text, sizeof(text));
		ok(strlen(text) < sizeof(text) && strstr(text, "ab") == NULL,
		    "scrub: many, the text growing past the buffer: every one gone");
	}

	free(mem);
	return tap_done();
}
