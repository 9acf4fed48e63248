/* libmicrohttpd glue: thread pool, routing table, bounded bodies, request log. */
#include "config.h"

#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http/async.h"
#include "http/endpoints.h"
#include "http/guard.h"
#include "http/metrics.h"
#include "http/reply.h"
#include "util/log.h"
#include "util/netaddr.h"

#include <openssl/crypto.h>

enum {
	M_GET = 1 << 0,
	M_POST = 1 << 1,
};

enum {
	ROUTE_CORS = 1 << 0,     /* browser MCP clients call it: answer preflights */
	ROUTE_DEV = 1 << 1,      /* exists only in dev mode */
	ROUTE_ROOT = 1 << 2,     /* path is absolute, not below the issuer path */
	ROUTE_PREFIX = 1 << 3,   /* path is a prefix: the endpoint reads the rest */
};

struct route {
	const char *name;      /* the endpoint label of the metrics */
	const char *path;
	unsigned int methods;
	unsigned int flags;
	endpoint_fn fn;
};

static const struct route routes[] = {
	{"metadata", "/.well-known/oauth-authorization-server", M_GET, ROUTE_CORS, ep_metadata},
	{"openid-configuration", "/.well-known/openid-configuration", M_GET, ROUTE_CORS, ep_metadata},
	{"jwks", "/jwks.json", M_GET, ROUTE_CORS, ep_jwks},
	{"authorize", "/authorize", M_GET | M_POST, 0, ep_authorize},
	{"token", "/token", M_POST, ROUTE_CORS, ep_token},
	{"revoke", "/revoke", M_POST, ROUTE_CORS, ep_revoke},
	{"register", "/register", M_POST, ROUTE_CORS, ep_register},
	{"introspect", "/introspect", M_POST, 0, ep_introspect},
	{"dev_token", "/dev/token", M_POST, ROUTE_CORS | ROUTE_DEV, ep_dev_token},
	{"dev_bad_token", "/dev/bad-token", M_POST, ROUTE_CORS | ROUTE_DEV, ep_dev_bad_token},
	{"dev_id_jag", "/dev/id-jag", M_POST, ROUTE_CORS | ROUTE_DEV, ep_dev_id_jag},
	{"healthz", "/healthz", M_GET, 0, ep_healthz},
	{"readyz", "/readyz", M_GET, 0, ep_readyz},
	{"metrics", "/metrics", M_GET, 0, ep_metrics},
	{"idp_callback", "/idp/", M_GET, ROUTE_PREFIX, ep_idp_callback},
	{"connect", "/connect/", M_GET, ROUTE_PREFIX, ep_connect},
	{"connections", "/connections", M_GET | M_POST, 0, ep_connections},
};

/* RFC 8414 §3.1 inserts the well-known segment before the issuer's path:
 * https://h/.well-known/oauth-authorization-server/tenant. These two are matched
 * against the whole request path when the issuer has a path. */
static const struct route inserted_routes[] = {
	{"metadata", "/.well-known/oauth-authorization-server", M_GET, ROUTE_CORS | ROUTE_ROOT, ep_metadata},
	{"openid-configuration", "/.well-known/openid-configuration", M_GET, ROUTE_CORS | ROUTE_ROOT, ep_metadata},
};

struct server {
	struct app *app;
	struct MHD_Daemon *daemon;
	uint16_t port;
	MHD_socket quiesced_fd; /* ours to close once MHD has stopped */
	struct guard *guard;    /* per-address limits, receive deadlines */
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *
request_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void
request_log_client(struct request *req, const char *client_id)
{
	snprintf(req->log_client_buf, sizeof(req->log_client_buf), "%s", client_id);
	req->log_client = req->log_client_buf;
}

/* The operator's limits (max_params, max_param_length) over a parsed form. */
static int
form_limits(const struct request *req, struct form *f, int rc)
{
	if (rc == FORM_OK)
		rc = form_check_limits(f, (size_t)req->app->cfg->max_params,
		    (size_t)req->app->cfg->max_param_length);
	if (rc != FORM_OK)
		form_clear(f);
	return rc;
}

int
request_form_body(struct request *req, struct form *f)
{
	const char *ct = request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/x-www-form-urlencoded");

	memset(f, 0, sizeof(*f));
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' '))
		return FORM_BAD_ENCODING;
	return form_limits(req, f,
	    form_parse(req->body.data ? req->body.data : "", req->body.len, f));
}

const char *
request_cookie(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void
request_cookie_name(const struct request *req, const char *base, char *out, size_t outlen)
{
	/* __Host- pins the cookie to this host, https and Path=/ (RFC 6265bis §4.1.3.2). */
	snprintf(out, outlen, "%s%s", req->app->https ? "__Host-" : "", base);
}

int
request_set_cookie(struct request *req, const char *name, const char *value, int64_t max_age)
{
	char *c;
	size_t n;

	if (req->n_set_cookie >= (int)(sizeof(req->set_cookie) / sizeof(req->set_cookie[0])))
		return -1;
	n = strlen(name) + strlen(value) + 128;
	if ((c = malloc(n)) == NULL)
		return -1;
	snprintf(c, n, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s", name, value,
	    (long long)max_age, req->app->https ? "; Secure" : "");
	req->set_cookie[req->n_set_cookie++] = c;
	return 0;
}

struct query_walk {
	struct form *f;
	int rc;
};

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
    size_t value_size)
{
	struct query_walk *w = cls;

	/* libmicrohttpd decodes %00 and hands over C strings: a NUL would silently cut
	 * the parameter short (client_id=app%00evil read as "app"). Refuse it, as the
	 * body's form parser does. */
	if (strlen(key) != key_size || (value != NULL && strlen(value) != value_size)) {
		w->rc = FORM_BAD_ENCODING;
		return MHD_NO;
	}
	if ((w->rc = form_add(w->f, key, value ? value : "")) != FORM_OK)
		return MHD_NO;
	return MHD_YES;
}

int
request_form_query(struct request *req, struct form *f)
{
	struct query_walk w = {f, FORM_OK};

	memset(f, 0, sizeof(*f));
	MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, query_arg, &w);
	return form_limits(req, f, w.rc);
}

static const struct route *
route_find(const struct app *app, const char *url, const char **rel)
{
	size_t plen = strlen(app->issuer_path), i;

	*rel = url;
	if (plen > 0) {
		for (i = 0; i < sizeof(inserted_routes) / sizeof(inserted_routes[0]); i++) {
			size_t n = strlen(inserted_routes[i].path);

			if (strncmp(url, inserted_routes[i].path, n) == 0 &&
			    strcmp(url + n, app->issuer_path) == 0)
				return &inserted_routes[i];
		}
		if (strncmp(url, app->issuer_path, plen) != 0 || url[plen] != '/')
			return NULL;
		*rel = url + plen;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if ((routes[i].flags & ROUTE_PREFIX)
			? strncmp(*rel, routes[i].path, strlen(routes[i].path)) == 0
			: strcmp(*rel, routes[i].path) == 0) {
			if ((routes[i].flags & ROUTE_DEV) && !app->dev)
				return NULL;
			return &routes[i];
		}
	}
	return NULL;
}

static void
remote_addr(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	netaddr_format(sa, out, outlen);
	if (out[0] == '\0')
		snprintf(out, outlen, "-");
}

/* Behind a reverse proxy every connection comes from the proxy: when the peer is one of
 * trusted_proxies, the client is the right-most X-Forwarded-For address that is not a
 * trusted proxy itself. Anyone else's X-Forwarded-For is ignored. */
static void
forwarded_for(struct request *req)
{
	const char *list = req->app->cfg->trusted_proxies, *xff;
	char hop[64];
	size_t end, start;

	if (list == NULL || !netaddr_in_list(list, req->remote_addr))
		return;
	xff = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (xff == NULL)
		return;
	for (end = strlen(xff); end > 0; end = start) {
		start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		{
			size_t a = start, b = end;

			while (a < b && xff[a] == ' ')
				a++;
			while (b > a && xff[b - 1] == ' ')
				b--;
			if (b - a == 0 || b - a >= sizeof(hop))
				return;
			memcpy(hop, xff + a, b - a);
			hop[b - a] = '\0';
		}
		if (!netaddr_valid(hop))
			return; /* a malformed chain: keep the peer address */
		if (!netaddr_in_list(list, hop)) {
			snprintf(req->remote_addr, sizeof(req->remote_addr), "%s", hop);
			return;
		}
		if (start == 0)
			break;
		start--; /* past the comma */
	}
}

static enum MHD_Result
reply_preflight(struct request *req)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	reply_add_common_headers(resp, REPLY_CORS);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type, MCP-Protocol-Version");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	return reply_queue(req, MHD_HTTP_NO_CONTENT, resp);
}

static enum MHD_Result
dispatch(struct request *req)
{
	const struct route *r = req->route;
	unsigned int m;

	if (r == NULL)
		return reply_error_status(req, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint");
	if (strcmp(req->method, "OPTIONS") == 0 && (r->flags & ROUTE_CORS))
		return reply_preflight(req);
	if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
		m = M_GET;
	else if (strcmp(req->method, "POST") == 0)
		m = M_POST;
	else
		m = 0;
	if ((r->methods & m) == 0) {
		struct MHD_Response *resp;
		static const char body[] =
		    "{\"error\":\"invalid_request\",\"error_description\":\"method not allowed\"}";

		resp = reply_response_new(body, sizeof(body) - 1, "application/json", REPLY_NO_STORE);
		if (resp == NULL)
			return MHD_NO;
		MHD_add_response_header(resp, "Allow",
		    r->methods == M_GET ? "GET, HEAD" : r->methods == M_POST ? "POST" : "GET, HEAD, POST");
		return reply_queue(req, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	}
	return r->fn(req);
}

static struct request *
request_new(struct server *srv, struct MHD_Connection *conn, const char *url, const char *method)
{
	struct request *req = calloc(1, sizeof(*req));
	const char *rel;
	int via_proxy;

	if (req == NULL)
		return NULL;
	req->app = srv->app;
	req->conn = conn;
	req->started_us = now_us();
	snprintf(req->method, sizeof(req->method), "%s", method);
	buf_init(&req->body, (size_t)srv->app->cfg->max_body);
	req->route = route_find(srv->app, url, &rel);
	if ((req->path = strdup(url)) == NULL) {
		free(req);
		return NULL;
	}
	remote_addr(conn, req->remote_addr, sizeof(req->remote_addr));
	/* Behind a proxy every connection is the proxy's: its clients are counted one
	 * by one, by their forwarded address, for as long as their requests run. */
	via_proxy = srv->app->cfg->trusted_proxies != NULL &&
	    netaddr_in_list(srv->app->cfg->trusted_proxies, req->remote_addr);
	forwarded_for(req);
	if (via_proxy)
		req->client_counted = guard_client_take(srv->guard, req->remote_addr) == 0 ? 1 : -1;
	return req;
}

static void
request_free(struct request *req)
{
	int i;

	if (req == NULL)
		return;
	request_async_free(req);
	for (i = 0; i < req->n_set_cookie; i++)
		OPENSSL_clear_free(req->set_cookie[i], strlen(req->set_cookie[i]));
	buf_free(&req->body);
	free(req->path);
	free(req);
}

/* A body over max_body is still read, and dropped, up to this many bytes before the 413 is
 * sent (nginx's lingering close): a server that answers and closes with the upload unread
 * makes the kernel reset the connection, and most clients (Node's fetch among them) then
 * report the reset, never the 413. The receive deadlines of http/guard.c bound the time. */
#define DISCARD_MAX ((size_t)8 * 1024 * 1024)

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct request *req = *con_cls;

	if (req == NULL) {
		const char *cl;

		if ((req = request_new(srv, conn, url, method)) == NULL)
			return MHD_NO;
		*con_cls = req;
		if (req->client_counted < 0) {
			snprintf(req->retry_after, sizeof(req->retry_after), "1");
			return reply_error_status(req, MHD_HTTP_TOO_MANY_REQUESTS, "slow_down",
			    "too many requests in progress from this address");
		}
		/* RFC 9112 §3.2: an HTTP/1.1 request without Host gets a 400. */
		if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
		    request_header(req, MHD_HTTP_HEADER_HOST) == NULL)
			return reply_error_status(req, MHD_HTTP_BAD_REQUEST, "invalid_request",
			    "the Host header is required");
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > (unsigned long long)srv->app->cfg->max_body) {
			req->body_too_large = 1;
			/* Beyond what is worth reading, answer at once (and the rest of the upload
			 * meets a reset); below, read it all first: see DISCARD_MAX. */
			if (strtoull(cl, NULL, 10) > DISCARD_MAX)
				return reply_error_status(req, 413, "invalid_request",
				    "request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!req->responded && !req->body_too_large &&
		    buf_append(&req->body, upload_data, *upload_data_size) != BUF_OK)
			req->body_too_large = 1;
		if (req->body_too_large && !req->responded &&
		    (req->discarded += *upload_data_size) > DISCARD_MAX) {
			*upload_data_size = 0;
			return reply_error_status(req, 413, "invalid_request",
			    "request body too large");
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	guard_received(srv->guard, conn);
	if (req->responded)
		return MHD_YES;
	if (req->body_too_large)
		return reply_error_status(req, 413, "invalid_request",
		    "request body too large");
	return dispatch(req);
}

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The metrics index of a route: its place in routes[]; the path-inserted forms count
 * as the endpoint they serve. */
static unsigned int
route_index(const struct route *r)
{
	size_t i;

	if (r == NULL)
		return NROUTES;
	if (r >= routes && r < routes + NROUTES)
		return (unsigned int)(r - routes);
	for (i = 0; i < NROUTES; i++) {
		if (strcmp(routes[i].name, r->name) == 0)
			return (unsigned int)i;
	}
	return NROUTES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct request *req = *con_cls;

	if (req == NULL)
		return;
	guard_answered(srv->guard, conn);
	if (req->client_counted > 0)
		guard_client_release(srv->guard, req->remote_addr);
	metrics_request(req->app->metrics, route_index(req->route), req->status,
	    now_us() - req->started_us);
	/* Every refused token request, whichever layer refused it (form, client
	 * authentication, the grant), counts under its OAuth error code. */
	if (req->grant != NULL && req->error != NULL)
		metrics_refusal(req->app->metrics, req->grant, req->error);
	/* Only the path is logged: queries may carry codes or state. */
	log_info("%s %s %u %.1fms %s%s%s", req->method, req->path, req->status,
	    (double)(now_us() - req->started_us) / 1000.0, req->remote_addr,
	    req->log_client ? " client=" : "", req->log_client ? req->log_client : "");
	request_free(req);
	*con_cls = NULL;
}

/* libmicrohttpd hands over its own format string: the attribute says so, so that the
 * compilers check the call as a printf-style forward rather than a non-literal format. */
static void __attribute__((format(printf, 2, 0)))
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", msg);
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6)
{
	char host[128];
	const char *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	*v6 = 0;
	if ((colon = strrchr(listen, ':')) == NULL)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	if ((size_t)(colon - listen) >= sizeof(host))
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		*v6 = 1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (host[0] == '\0')
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
	}
	return 0;
}

int
server_listen_loopback(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

int
server_start(struct app *app, const char *listen, int listen_fd, unsigned int threads,
    struct server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct server *srv;
	unsigned int flags;
	struct MHD_OptionItem sock_opt[2];
	int v6 = 0;

	*out = NULL;
	if (listen_fd < 0 && parse_listen(listen, &ss, &v6) != 0) {
		snprintf(err, errlen, "bad listen address '%s' (want ADDR:PORT)", listen);
		return -1;
	}
	if (app->metrics == NULL) {
		static const char *names[NROUTES];
		size_t i;

		for (i = 0; i < NROUTES; i++)
			names[i] = routes[i].name;
		if (metrics_new((unsigned int)NROUTES, names, &app->metrics) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned int)n : 1;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->app = app;
	srv->quiesced_fd = MHD_INVALID_SOCKET;
	if (guard_new(app->cfg->trusted_proxies, (unsigned int)app->cfg->max_connections_per_ip,
	    app->cfg->connection_timeout, app->metrics, &srv->guard) != 0) {
		snprintf(err, errlen, "out of memory");
		free(srv);
		return -1;
	}
	/* MHD_USE_ITC lets a thread pool stop accepting while it finishes (quiesce). */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	/* Either a socket we were handed or an address to bind. */
	memset(sock_opt, 0, sizeof(sock_opt));
	if (listen_fd >= 0) {
		sock_opt[0].option = MHD_OPTION_LISTEN_SOCKET;
		sock_opt[0].value = listen_fd;
	} else {
		sock_opt[0].option = MHD_OPTION_SOCK_ADDR;
		sock_opt[0].ptr_value = &ss;
	}
	sock_opt[1].option = MHD_OPTION_END;
	/* Connections per address are counted by the guard, not by libmicrohttpd's
	 * per-IP limit: that one would count a reverse proxy as one client. */
	srv->daemon = MHD_start_daemon(flags, 0, guard_accept, srv->guard, on_access, srv,
	    MHD_OPTION_ARRAY, sock_opt,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, guard_notify, srv->guard,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)app->cfg->connection_timeout,
	    /* libmicrohttpd zeroes this pool for every request: keep it just big enough for
	     * headers (16 KiB, its per-connection header limit). */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_END);
	if (srv->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen ? listen : "socket",
		    strerror(errno));
		guard_free(srv->guard);
		free(srv);
		return -1;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	*out = srv;
	return 0;
}

uint16_t
server_port(const struct server *srv)
{
	return srv->port;
}

/* A classic BPF program for the listening socket that drops a bare SYN (a new
 * handshake) and lets everything else through, above all the ACK that completes a
 * handshake already under way. The kernel runs it with the TCP header at offset 0. */
static int
hold_new_handshakes(MHD_socket fd)
{
	static struct sock_filter drop_syn[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),			/* TCP flags */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),		/* SYN | ACK */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),	/* SYN alone? */
		BPF_STMT(BPF_RET | BPF_K, 0),				/* drop it */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),			/* keep the rest */
	};
	struct sock_fprog prog = { sizeof(drop_syn) / sizeof(drop_syn[0]), drop_syn };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/* Hand every connection waiting in the kernel's accept queue to MHD; 1 if there was
 * any. Closing a listening socket resets the connections still queued on it, and to
 * their clients that looks like a request cut off half-way. */
static int
adopt_queued(struct server *srv, MHD_socket fd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	MHD_socket c;
	int any = 0;

	for (;;) {
		sl = sizeof(ss);
		c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (c == MHD_INVALID_SOCKET)
			return any;
		/* On failure MHD has closed the socket. */
		(void)MHD_add_connection(srv->daemon, c, (struct sockaddr *)&ss, sl);
		any = 1;
	}
}

void
server_drain(struct server *srv, int grace_ms)
{
	const union MHD_DaemonInfo *info;
	MHD_socket fd;
	int waited, quiet = 0;

	if (srv == NULL)
		return;
	srv->app->stopping = 1;
	/* Quiescing stops MHD accepting; the socket becomes ours. The stop then goes in
	 * three steps so that no connection the kernel completed is dropped: new
	 * handshakes are held (their SYN dropped, so the client retries it), those
	 * already queued or under way are accepted and served, and only when the queue
	 * has stayed empty is the socket shut down, so that retried SYNs are refused at
	 * once and a client or proxy goes elsewhere instead of waiting for the grace
	 * period to end. */
	fd = MHD_quiesce_daemon(srv->daemon);
	if (fd != MHD_INVALID_SOCKET) {
		srv->quiesced_fd = fd;
		if (hold_new_handshakes(fd) == 0 &&
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0) {
			/* A handshake under way completes within a round trip: a few
			 * empty looks 5 ms apart cover any proxy on the same network. */
			for (waited = 0; quiet < 4 && waited < grace_ms; waited += 5) {
				quiet = adopt_queued(srv, fd) ? 0 : quiet + 1;
				usleep(5 * 1000);
			}
			(void)adopt_queued(srv, fd);
		}
		shutdown(fd, SHUT_RDWR);
	}
	for (waited = 0; waited < grace_ms; waited += 10) {
		info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (info == NULL || info->num_connections == 0)
			break;
		usleep(10 * 1000);
	}
}

void
server_stop(struct server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	if (srv->quiesced_fd != MHD_INVALID_SOCKET)
		close(srv->quiesced_fd);
	guard_free(srv->guard);
	free(srv);
}
