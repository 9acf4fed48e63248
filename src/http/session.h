/* The browser's sign-in session (the SESSION_COOKIE): who is signed in, and starting a
 * session after a sign-in. Shared by the pages that need a signed-in user: /authorize,
 * the upstream sign-in's way back, and /connect. */
#ifndef MCP_HTTP_SESSION_H
#define MCP_HTTP_SESSION_H

#include <stdint.h>

#include "http/request.h"
#include "oauth/secret.h"
#include "store/store.h"

struct who {
	int64_t user_id;
	int64_t auth_time;
	unsigned char session_hash[SECRET_HASH_LEN]; /* of the cookie: what binds to it */
	struct store_user user;
};

/* The user of the browser's current session at now: 0 with *w filled (release with
 * store_user_clear(&w->user)), -1 when there is none. */
int session_user(struct request *req, int64_t now, struct who *w);

/* Start a session for u: a new cookie, the session stored. 0 with *w filled. */
int session_start(struct request *req, const struct store_user *u, int64_t now, struct who *w);

#endif
