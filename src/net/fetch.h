/* The one way out to the network (STYLE.md "Growing the house"): every outbound HTTP
 * request (Client ID Metadata Documents, upstream OpenID Connect discovery, JWKS and
 * token requests) goes through here, where the policy is kept once: https only unless
 * allowed, no redirects, a size and a time limit, private addresses refused unless
 * allowed, and the connection pinned to the address that was checked, so that DNS cannot
 * answer differently between the check and the connection. Blocking: run it on a worker. */
#ifndef MCP_NET_FETCH_H
#define MCP_NET_FETCH_H

#include <stddef.h>

struct sockaddr;

struct net_policy {
	int allow_private;       /* loopback, private, link-local addresses (on-premises, tests) */
	int allow_http;          /* http:// URLs too (allow_insecure_issuer) */
	const char *ca_file;     /* the CA bundle to trust, or NULL (net_set_ca_file's) */
	size_t max_bytes;        /* largest body read */
	long timeout_ms;         /* the whole exchange */
};

struct net_request {
	const char *url;
	const char *form;          /* NULL: GET; otherwise POST of this
				    * application/x-www-form-urlencoded body */
	const char *authorization; /* an Authorization header value, or NULL */
	const char *accept;        /* the Accept header (NULL: application/json) */
};

struct net_response {
	long status;
	char *body;                /* NUL-terminated; owned */
	size_t len;
	char cache_control[256];
	char content_type[128];
};

/* The CA bundle (PEM) that https fetches trust when their policy names none, in place of
 * the system's (outbound_ca_file: an enterprise's own PKI); NULL: the system's. Set once,
 * before any fetch; the string must outlive them. */
void net_set_ca_file(const char *path);

/* Is the address one a fetch must not reach unless the policy allows private ones:
 * loopback, private, link-local, CGNAT, multicast, unspecified (IPv4-mapped included)? */
int net_address_private(const struct sockaddr *sa);

/* Perform the request under the policy. 0 when an answer came (any status: check
 * out->status); -1 with a one-line reason in err (refused by the policy, unreachable,
 * too slow, too big). Release out with net_response_clear either way. */
int net_fetch(const struct net_request *req, const struct net_policy *p,
    struct net_response *out, char *err, size_t errlen);

void net_response_clear(struct net_response *r);

/* The Authorization header value of client_secret_basic (RFC 6749 §2.3.1: the client_id
 * and secret are form-encoded before they are joined and base64-encoded): a new string,
 * to be wiped (OPENSSL_clear_free). */
char *net_basic_auth_new(const char *client_id, const char *secret);

struct buf;
/* Append name=value (value form-encoded) to an application/x-www-form-urlencoded body,
 * with a '&' before it unless the body is empty. BUF_OK or an error of util/buf.h. */
int net_form_pair(struct buf *b, const char *name, const char *value);

/* Append name=value (value form-encoded) to the URL in b: after '?' when it has no query
 * yet, else '&'. */
int net_query_pair(struct buf *b, const char *name, const char *value);

/* Is the answer's Content-Type JSON (application/json or a +json type)? */
int net_response_is_json(const struct net_response *r);

#endif
