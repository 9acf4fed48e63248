/* The browser's sign-in session. */
#include "config.h"

#include "http/session.h"

#include <string.h>

#include <openssl/crypto.h>

#include "http/app.h"
#include "http/endpoints.h"
#include "oauth/secret.h"

int
session_user(struct request *req, int64_t now, struct who *w)
{
	unsigned char hash[SECRET_HASH_LEN];
	char name[64];
	const char *v;
	struct store *st = app_store(req->app);

	memset(w, 0, sizeof(*w));
	request_cookie_name(req, SESSION_COOKIE, name, sizeof(name));
	if ((v = request_cookie(req, name)) == NULL || strlen(v) != 43 || st == NULL)
		return -1;
	secret_hash(v, hash);
	if (store_session_get(st, hash, sizeof(hash), now, &w->user_id, &w->auth_time) != STORE_OK)
		return -1;
	memcpy(w->session_hash, hash, sizeof(hash));
	return store_user_get(st, w->user_id, &w->user) == STORE_OK ? 0 : -1;
}

int
session_start(struct request *req, const struct store_user *u, int64_t now, struct who *w)
{
	unsigned char hash[SECRET_HASH_LEN];
	char name[64], *v;
	int rc;

	if ((v = secret_random_new(32)) == NULL)
		return -1;
	secret_hash(v, hash);
	rc = store_session_add(app_store(req->app), hash, sizeof(hash), u->id, now, now,
	    now + req->app->cfg->session_ttl);
	if (rc == STORE_OK) {
		request_cookie_name(req, SESSION_COOKIE, name, sizeof(name));
		rc = request_set_cookie(req, name, v, req->app->cfg->session_ttl);
	}
	OPENSSL_clear_free(v, strlen(v));
	if (rc != 0)
		return -1;
	memset(w, 0, sizeof(*w));
	memcpy(w->session_hash, hash, sizeof(hash));
	w->user_id = u->id;
	w->auth_time = now;
	return store_user_get(app_store(req->app), u->id, &w->user) == STORE_OK ? 0 : -1;
}
