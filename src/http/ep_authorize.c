/* GET/POST /authorize: validate, log the user in, ask consent, redirect with a code.
 *
 * The request's parameters travel through the login and consent forms as hidden
 * fields and are validated again on every step, so nothing about a pending request
 * is kept on the server. The steps are here; validation is in authz_request.c, the
 * pages and their CSRF tokens in authz_pages.c, the way back in authz_redirect.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http/async.h"
#include "http/authz.h"
#include "http/endpoints.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "http/reply.h"
#include "http/session.h"
#include "oauth/audit.h"
#include "oauth/scope.h"
#include "oauth/throttle.h"
#include "oauth/upstream.h"
#include "util/log.h"
#include "util/password.h"

#define USERNAME_MAX 128

/* Fields of our own forms, never forwarded as authorization parameters. */
static int
is_form_field(const char *name)
{
	static const char *const fields[] = {"step", "csrf_token", "username", "password",
	    "decision", "idp", NULL};
	size_t i;

	for (i = 0; fields[i] != NULL; i++) {
		if (strcmp(name, fields[i]) == 0)
			return 1;
	}
	return 0;
}

/* The authorization request as a query string, to come back to after the provider.
 * prompt=login is dropped: the sign-in it asks for is the one happening. New string. */
static char *
authorize_query_new(const struct authz *a)
{
	struct buf b;
	size_t i;
	int rc = BUF_OK;

	buf_init(&b, 8192);
	for (i = 0; i < a->params.n; i++) {
		if (strcmp(a->params.v[i].name, "prompt") == 0 &&
		    strcmp(a->params.v[i].value, "login") == 0)
			continue;
		if (b.len > 0)
			rc |= buf_putc(&b, '&');
		rc |= buf_put_urlencoded(&b, a->params.v[i].name);
		rc |= buf_putc(&b, '=');
		rc |= buf_put_urlencoded(&b, a->params.v[i].value);
	}
	if (rc != BUF_OK || b.data == NULL) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* To the provider to sign in (a button of the login page, or the only provider). */
static enum MHD_Result
step_upstream(struct request *req, const struct authz *a, const char *idp)
{
	enum MHD_Result r;
	char *query;
	int rc;

	if (idp == NULL || !upstream_name_ok(idp))
		return authz_login_page(req, a, MHD_HTTP_BAD_REQUEST, "Unknown identity provider.",
		    NULL);
	if ((query = authorize_query_new(a)) == NULL)
		return authz_refuse_too_long(req);
	rc = idp_start(req, idp, query, &r);
	free(query);
	if (rc == 1)
		return authz_login_page(req, a, MHD_HTTP_BAD_REQUEST, "Unknown identity provider.",
		    NULL);
	if (rc < 0)
		return reply_error_status(req, 500, "server_error", "cannot start the sign-in");
	return r;
}

/* With local_login off and exactly one provider, the login page would be one button:
 * its name instead, so that /authorize goes straight there. */
static int
only_provider(const struct store_idp *p, void *arg)
{
	char **name = arg;

	if (p->client_id[0] == '\0')
		return 0;
	if (*name != NULL) {
		free(*name);
		*name = NULL;
		return 1; /* a second one: there is no single provider */
	}
	*name = strdup(p->name);
	return 0;
}

/* ---- what a federated user's groups reach ---- */

struct maps {
	struct upstream_map *v;
	size_t n;
};

static int
collect_map(const char *idp, const char *group, const char *resource_uri, const char *scopes,
    void *arg)
{
	struct maps *m = arg;
	struct upstream_map *grown = realloc(m->v, (m->n + 1) * sizeof(*grown));

	(void)idp;
	if (grown == NULL)
		return -1;
	m->v = grown;
	m->v[m->n].group = strdup(group);
	m->v[m->n].resource_uri = strdup(resource_uri);
	m->v[m->n].scopes = scopes != NULL ? strdup(scopes) : NULL;
	m->n++;
	if (m->v[m->n - 1].group == NULL || m->v[m->n - 1].resource_uri == NULL ||
	    (scopes != NULL && m->v[m->n - 1].scopes == NULL))
		return -1;
	return 0;
}

static void
maps_free(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free((char *)(uintptr_t)m->v[i].group);
		free((char *)(uintptr_t)m->v[i].resource_uri);
		free((char *)(uintptr_t)m->v[i].scopes);
	}
	free(m->v);
}

/* For a user who signed in through a provider: every requested resource must be one
 * their groups (as of that sign-in) reach, and the scope narrows to what the groups
 * allow. NULL when the request may go on (a->scope narrowed); otherwise why not. */
static const char *
federated_reach(struct request *req, struct authz *a, const struct who *w)
{
	struct store *st = app_store(req->app);
	struct store_idp p;
	struct maps m = {NULL, 0};
	struct buf allowed;
	json_t *groups = NULL;
	const char *why = NULL;
	char *reach, *narrowed;
	size_t i;
	int reachable;

	if (w->user.idp == NULL)
		return NULL;
	memset(&p, 0, sizeof(p));
	buf_init(&allowed, 0);
	if (store_idp_get(st, w->user.idp, &p) != STORE_OK) {
		why = "the user's identity provider is no longer registered";
		goto out;
	}
	if (store_idp_map_list(st, p.id, collect_map, &m) != STORE_OK) {
		why = "cannot read the identity provider's group mappings";
		goto out;
	}
	groups = w->user.idp_groups ? json_loads(w->user.idp_groups, 0, NULL) : json_array();
	if (!json_is_array(groups)) {
		json_decref(groups);
		groups = json_array();
	}
	for (i = 0; i < a->nres; i++) {
		reach = upstream_reach_new(m.v, m.n, groups, a->res[i].uri,
		    a->res[i].scopes ? a->res[i].scopes : "", &reachable);
		if (reach == NULL) {
			why = reachable ? "out of memory"
					: "the user's groups at the identity provider do not reach the "
					  "requested resource";
			goto out;
		}
		if (allowed.len > 0 && reach[0] != '\0')
			buf_putc(&allowed, ' ');
		buf_puts(&allowed, reach);
		free(reach);
	}
	if ((narrowed = scope_intersect_new(a->scope, allowed.data ? allowed.data : "")) == NULL) {
		why = "out of memory";
		goto out;
	}
	free(a->scope);
	a->scope = narrowed;
out:
	json_decref(groups);
	maps_free(&m);
	buf_free(&allowed);
	store_idp_clear(&p);
	return why;
}

/* ---- the flow ---- */

/* Consent remembered, or not needed (dev), or ask for it. */
static enum MHD_Result
after_login(struct request *req, struct authz *a, const struct who *w)
{
	int prompt_consent = a->prompt != NULL && strcmp(a->prompt, "consent") == 0;
	int remembered;
	const char *why;

	if ((why = federated_reach(req, a, w)) != NULL)
		return authz_redirect_error(req, a, "access_denied", why);

	if (req->app->dev)
		return authz_issue_code(req, a, w);
	remembered = store_consent_check(app_store(req->app), w->user_id, a->client.id,
			 a->resources, a->scope, a->now) == STORE_OK;
	if (remembered && !prompt_consent)
		return authz_issue_code(req, a, w);
	if (a->prompt != NULL && strcmp(a->prompt, "none") == 0)
		return authz_redirect_error(req, a, "consent_required",
		    "the user has not consented");
	return authz_consent_page(req, a, w->user.name);
}

static enum MHD_Result
step_start(struct request *req, struct authz *a)
{
	struct who w;
	enum MHD_Result r;
	int have = session_user(req, a->now, &w) == 0;
	int prompt_none = a->prompt != NULL && strcmp(a->prompt, "none") == 0;
	int prompt_login = a->prompt != NULL && strcmp(a->prompt, "login") == 0;

	if (have && !prompt_login) {
		r = after_login(req, a, &w);
		store_user_clear(&w.user);
		return r;
	}
	store_user_clear(&w.user);
	if (prompt_none)
		return authz_redirect_error(req, a, "login_required", "the user is not signed in");
	if (!req->app->cfg->local_login && !req->app->dev) {
		char *only = NULL;

		if (store_idp_list(app_store(req->app), only_provider, &only) == STORE_OK &&
		    only != NULL) {
			r = step_upstream(req, a, only);
			free(only);
			return r;
		}
		free(only);
	}
	if (req->app->dev && !req->app->dev_interactive && req->app->dev_user != NULL) {
		/* The mock issuer signs its seeded user in without a form. */
		struct store_user u;

		if (store_user_get_by_name(app_store(req->app), req->app->dev_user, &u) != STORE_OK)
			return authz_refuse_page(req, "server_error", "The dev user is missing.");
		if (session_start(req, &u, a->now, &w) != 0) {
			store_user_clear(&u);
			return authz_refuse_page(req, "server_error", "Cannot start a session.");
		}
		store_user_clear(&u);
		r = after_login(req, a, &w);
		store_user_clear(&w.user);
		return r;
	}
	return authz_login_page(req, a, MHD_HTTP_OK, NULL, NULL);
}

/* A hash of a random password with the same parameters: unknown users cost the same
 * time as known ones, so that timing does not tell which names exist. */
static const char dummy_hash[] =
    "$argon2id$v=19$m=19456,t=2,p=1$RGlFN0xJaUJTSXVOUVBRWg$"
    "PtVVINJe2spPyw2MdlUjIvbrRA67i5aoQaegZyAM8+I";

/* Wall-clock milliseconds: login delays of a second must not round to nothing. */
static int64_t
time_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
throttle_policy_of(const struct app *app, struct throttle_policy *p)
{
	const struct config *c = app->cfg;

	p->enabled = c->login_throttle != 0;
	p->user_after = c->login_throttle_after;
	p->addr_after = c->login_throttle_addr_after;
	p->delay = c->login_throttle_delay;
	p->max_delay = c->login_throttle_max_delay;
	p->window = c->login_throttle_window;
}

/* login.failed and login.throttled. The name typed is recorded only when it is an
 * account's: a password typed into the username field must not reach the audit. */
static void
audit_login(struct request *req, const struct authz *a, const char *event, const char *name,
    const char *reason)
{
	struct store_audit ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = a->now;
	ev.event = event;
	ev.outcome = "refused";
	ev.reason = reason;
	ev.client_id = a->client.client_id;
	ev.subject = name;
	ev.remote_addr = req->remote_addr;
	audit_write(app_store(req->app), req->app->audit, &ev);
}

/* Too many failures: the login page again, and no password check at all, so that an
 * attacker's guesses during the delay cost nothing and tell nothing. */
static enum MHD_Result
login_throttled(struct request *req, const struct authz *a, const char *username,
    int64_t wait_ms, const char *which)
{
	struct store_user u;
	char reason[96], msg[160];
	int64_t wait = (wait_ms + 999) / 1000; /* whole seconds, rounded up */
	int exists;

	exists = store_user_get_by_name(app_store(req->app), username, &u) == STORE_OK;
	snprintf(reason, sizeof(reason), "too many failed logins for this %s; %lld s to wait",
	    which, (long long)wait);
	audit_login(req, a, "login.throttled", exists ? u.name : NULL, reason);
	store_user_clear(&u);
	log_info("login throttled (%s) for a user of client %s from %s", which,
	    a->client.client_id, req->remote_addr);
	metrics_login(req->app->metrics, "throttled");
	snprintf(req->retry_after, sizeof(req->retry_after), "%lld", (long long)wait);
	snprintf(msg, sizeof(msg), "Too many failed sign-in attempts. Wait %lld second%s, then "
	    "try again.", (long long)wait, wait == 1 ? "" : "s");
	return authz_login_page(req, a, MHD_HTTP_TOO_MANY_REQUESTS, msg, username);
}

static enum MHD_Result
step_login(struct request *req, const struct form *in, struct authz *a)
{
	const char *username = form_get(in, "username", NULL);
	const char *password = form_get(in, "password", NULL);
	struct store *st = app_store(req->app);
	struct throttle_policy tp;
	struct store_user u;
	struct who w;
	enum MHD_Result r;
	const char *which;
	int64_t wait_ms, now_ms = time_ms();
	int exists, known, match = 0, resumed = req->async != NULL;

	memset(&u, 0, sizeof(u));
	if (username == NULL || password == NULL || username[0] == '\0' ||
	    strlen(username) > USERNAME_MAX || strlen(password) > PASSWORD_MAX_LEN)
		return authz_login_page(req, a, MHD_HTTP_BAD_REQUEST,
		    "Enter a username and a password.",
		    username && strlen(username) <= USERNAME_MAX ? username : NULL);
	throttle_policy_of(req->app, &tp);
	/* Checked once, before the hash starts; the second pass, with the hash done,
	 * finishes what the first began. */
	if (!resumed && throttle_check(st, &tp, username, req->remote_addr, now_ms, &wait_ms,
	    &which) == 1)
		return login_throttled(req, a, username, wait_ms, which);
	exists = store_user_get_by_name(st, username, &u) == STORE_OK;
	/* A federated user has no password here: checked against the dummy hash like an
	 * unknown name, so that the answer takes as long. (A local user linked to a provider
	 * keeps the password it had.) */
	known = exists && !u.disabled && strcmp(u.password_hash, STORE_NO_PASSWORD) != 0;
	switch (request_password_verify(req, known ? u.password_hash : dummy_hash, password,
	    &match)) {
	case ASYNC_PENDING:
		store_user_clear(&u);
		return MHD_YES;
	case ASYNC_BUSY:
		store_user_clear(&u);
		return reply_error_status(req, 503, "temporarily_unavailable", "server busy, retry");
	default:
		break;
	}
	if (!known || !match) {
		log_info("login failed for a user of client %s from %s", a->client.client_id,
		    req->remote_addr);
		if (throttle_failure(st, &tp, username, req->remote_addr, now_ms) != STORE_OK)
			log_warn("cannot count a failed login: %s", store_errmsg(st));
		audit_login(req, a, "login.failed", exists ? u.name : NULL,
		    !exists ? "unknown username" : u.disabled ? "account disabled" :
		    strcmp(u.password_hash, STORE_NO_PASSWORD) == 0 ?
		    "federated user: signs in through the identity provider" :
		    "wrong password");
		metrics_login(req->app->metrics, "failed");
		store_user_clear(&u);
		return authz_login_page(req, a, MHD_HTTP_UNAUTHORIZED,
		    "Wrong username or password.", username);
	}
	metrics_login(req->app->metrics, "ok");
	if (throttle_success(st, &tp, username) != STORE_OK)
		log_warn("cannot clear failed logins: %s", store_errmsg(st));
	if (session_start(req, &u, a->now, &w) != 0) {
		store_user_clear(&u);
		return authz_refuse_page(req, "server_error", "Cannot start a session.");
	}
	store_user_clear(&u);
	r = after_login(req, a, &w);
	store_user_clear(&w.user);
	return r;
}

static enum MHD_Result
step_consent(struct request *req, const struct form *in, struct authz *a)
{
	const char *decision = form_get(in, "decision", NULL), *why;
	struct who w;
	enum MHD_Result r;

	if (session_user(req, a->now, &w) != 0) {
		store_user_clear(&w.user);
		return authz_login_page(req, a, MHD_HTTP_OK, "Your session ended; sign in again.",
		    NULL);
	}
	if (decision == NULL || strcmp(decision, "allow") != 0) {
		store_user_clear(&w.user);
		return authz_redirect_error(req, a, "access_denied", "the user denied the request");
	}
	if ((why = federated_reach(req, a, &w)) != NULL) {
		store_user_clear(&w.user);
		return authz_redirect_error(req, a, "access_denied", why);
	}
	if (req->app->cfg->consent_ttl > 0)
		store_consent_put(app_store(req->app), w.user_id, a->client.id, a->resources, a->scope,
		    a->now, a->now + req->app->cfg->consent_ttl);
	r = authz_issue_code(req, a, &w);
	store_user_clear(&w.user);
	return r;
}

enum MHD_Result
ep_authorize(struct request *req)
{
	struct form in;
	struct authz a;
	enum MHD_Result r;
	const char *step = NULL, *error, *desc;
	int post = strcmp(req->method, "POST") == 0, rc;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.now = (int64_t)time(NULL);
	rc = post ? request_form_body(req, &in) : request_form_query(req, &in);
	if (rc != FORM_OK)
		return authz_refuse_page(req, "invalid_request",
		    "The request parameters are malformed (bad encoding, too many or too long).");
	for (i = 0; i < in.n; i++) {
		if (!is_form_field(in.v[i].name) &&
		    form_add(&a.params, in.v[i].name, in.v[i].value) != FORM_OK) {
			r = authz_refuse_page(req, "invalid_request", "Too many parameters.");
			goto out;
		}
	}
	if (authz_check_client(req, &in, &a, &r) != 0)
		goto out; /* an error page, or waiting for the client's metadata document */
	if ((desc = authz_check_request(req, &in, &a, &error)) != NULL) {
		r = authz_redirect_error(req, &a, error, desc);
		goto out;
	}
	if (post)
		step = form_get(&in, "step", NULL);
	if (step != NULL && !authz_csrf_ok(req, &a, form_get(&in, "csrf_token", NULL))) {
		r = page_error(req, MHD_HTTP_FORBIDDEN, "invalid_request", "This form has expired",
		    "The form was not sent from this sign-in page, or it has expired. "
		    "Go back to the application and start again.");
		goto out;
	}
	if (step != NULL && strcmp(step, "login") == 0 && !req->app->cfg->local_login)
		r = authz_login_page(req, &a, MHD_HTTP_BAD_REQUEST,
		    "Sign in with your identity provider.", NULL);
	else if (step != NULL && strcmp(step, "login") == 0)
		r = step_login(req, &in, &a);
	else if (step != NULL && strcmp(step, "upstream") == 0)
		r = step_upstream(req, &a, form_get(&in, "idp", NULL));
	else if (step != NULL && strcmp(step, "consent") == 0)
		r = step_consent(req, &in, &a);
	else
		r = step_start(req, &a);
out:
	authz_clear(&a);
	form_clear(&in);
	return r;
}
