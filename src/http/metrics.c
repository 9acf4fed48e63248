/* Counters in fixed tables (no allocation per request) and two small labelled maps. */
#include "config.h"

#include "http/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonw.h"

static const unsigned int statuses[] = {200, 201, 204, 303, 400, 401, 403, 404, 405, 413,
    429, 431, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))
/* Latency buckets in seconds, as microseconds. */
static const int64_t bucket_us[] = {500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000};
static const char *const bucket_le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05", "0.1", "0.25", "0.5", "1", "2.5"};
#define NBUCKET (sizeof(bucket_us) / sizeof(bucket_us[0]))
#define MAX_LABELLED 256
static const char *const login_outcomes[] = {"ok", "failed", "throttled"};
#define NLOGIN (sizeof(login_outcomes) / sizeof(login_outcomes[0]))
static const char *const limit_names[] = {"connections", "requests", "timeout"};
#define NLIMIT (sizeof(limit_names) / sizeof(limit_names[0]))

struct route_stats {
	atomic_ullong by_status[NSTATUS + 1]; /* the last one: any other status */
	atomic_ullong buckets[NBUCKET];
	atomic_ullong count;
	atomic_ullong sum_us;
};

struct labelled {
	char *a, *b;
	unsigned long long n;
};

struct metrics {
	unsigned int nroutes;
	const char *const *names;
	struct route_stats *routes; /* nroutes + 1: the last is "unknown" */
	pthread_mutex_t lock;       /* guards the labelled tables */
	struct labelled tokens[MAX_LABELLED];
	size_t ntokens;
	struct labelled refusals[MAX_LABELLED];
	size_t nrefusals;
	atomic_ullong logins[NLOGIN];
	atomic_ullong limited[NLIMIT];
};

int
metrics_new(unsigned int nroutes, const char *const *route_names, struct metrics **out)
{
	struct metrics *m;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if ((m->routes = calloc(nroutes + 1, sizeof(*m->routes))) == NULL) {
		free(m);
		return -1;
	}
	m->nroutes = nroutes;
	m->names = route_names;
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

static void
labelled_free(struct labelled *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].a);
		free(v[i].b);
	}
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	labelled_free(m->tokens, m->ntokens);
	labelled_free(m->refusals, m->nrefusals);
	pthread_mutex_destroy(&m->lock);
	free(m->routes);
	free(m);
}

void
metrics_request(struct metrics *m, unsigned int route, unsigned int status, int64_t micros)
{
	struct route_stats *r;
	size_t i;

	if (m == NULL)
		return;
	r = &m->routes[route < m->nroutes ? route : m->nroutes];
	for (i = 0; i < NSTATUS && statuses[i] != status; i++)
		;
	atomic_fetch_add_explicit(&r->by_status[i], 1, memory_order_relaxed);
	for (i = 0; i < NBUCKET; i++) {
		if (micros <= bucket_us[i]) {
			atomic_fetch_add_explicit(&r->buckets[i], 1, memory_order_relaxed);
			break;
		}
	}
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)(micros > 0 ? micros : 0),
	    memory_order_relaxed);
}

/* Count (a, b); past MAX_LABELLED distinct pairs, into ("other", "other"). */
static void
count_pair(struct metrics *m, struct labelled *v, size_t *n, const char *a, const char *b)
{
	size_t i;

	a = a ? a : "";
	b = b ? b : "";
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < *n; i++) {
		if (strcmp(v[i].a, a) == 0 && strcmp(v[i].b, b) == 0)
			break;
	}
	if (i == *n) {
		if (*n == MAX_LABELLED - 1) {
			a = b = "other";
			for (i = 0; i < *n && !(strcmp(v[i].a, a) == 0 && strcmp(v[i].b, b) == 0); i++)
				;
		}
		if (i == *n) {
			v[i].a = strdup(a);
			v[i].b = strdup(b);
			if (v[i].a == NULL || v[i].b == NULL) {
				free(v[i].a);
				free(v[i].b);
				pthread_mutex_unlock(&m->lock);
				return;
			}
			(*n)++;
		}
	}
	v[i].n++;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_token(struct metrics *m, const char *grant, const char *resource)
{
	if (m != NULL)
		count_pair(m, m->tokens, &m->ntokens, grant, resource);
}

void
metrics_refusal(struct metrics *m, const char *grant, const char *error)
{
	if (m != NULL)
		count_pair(m, m->refusals, &m->nrefusals, grant, error);
}

/* A label value: the JSON string escaping is also what Prometheus expects. */
static int
label(struct buf *b, const char *name, const char *value)
{
	int rc = buf_puts(b, name);

	rc |= buf_putc(b, '=');
	return rc | jsonw_string(b, value);
}

static int
render_pairs(struct metrics *m, struct buf *b, const char *metric, const char *help,
    const struct labelled *v, size_t n, const char *la, const char *lb)
{
	size_t i;
	int rc = buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", metric, help, metric);

	for (i = 0; i < n; i++) {
		rc |= buf_printf(b, "%s{", metric);
		rc |= label(b, la, v[i].a);
		rc |= buf_putc(b, ',');
		rc |= label(b, lb, v[i].b);
		rc |= buf_printf(b, "} %llu\n", v[i].n);
	}
	return rc;
}

void
metrics_login(struct metrics *m, const char *outcome)
{
	size_t i;

	for (i = 0; m != NULL && i < NLOGIN; i++) {
		if (strcmp(login_outcomes[i], outcome) == 0)
			atomic_fetch_add(&m->logins[i], 1);
	}
}

void
metrics_limited(struct metrics *m, const char *limit)
{
	size_t i;

	for (i = 0; m != NULL && i < NLIMIT; i++) {
		if (strcmp(limit_names[i], limit) == 0)
			atomic_fetch_add(&m->limited[i], 1);
	}
}

int
metrics_render(struct metrics *m, struct buf *b, int64_t key_age, int64_t db_bytes,
    int64_t uptime, const struct store_cache_stats *cache, int db_up)
{
	unsigned int r;
	size_t i;
	int rc;

	rc = buf_puts(b, "# HELP mcp_authd_http_requests_total HTTP requests answered, by endpoint "
			 "and status.\n# TYPE mcp_authd_http_requests_total counter\n");
	for (r = 0; r <= m->nroutes; r++) {
		const char *name = r < m->nroutes ? m->names[r] : "unknown";

		for (i = 0; i <= NSTATUS; i++) {
			unsigned long long v = atomic_load(&m->routes[r].by_status[i]);

			if (v == 0)
				continue;
			if (i < NSTATUS)
				rc |= buf_printf(b, "mcp_authd_http_requests_total{endpoint=\"%s\","
						    "status=\"%u\"} %llu\n", name, statuses[i], v);
			else
				rc |= buf_printf(b, "mcp_authd_http_requests_total{endpoint=\"%s\","
						    "status=\"other\"} %llu\n", name, v);
		}
	}
	rc |= buf_puts(b, "# HELP mcp_authd_http_request_duration_seconds Time to answer, by "
			  "endpoint.\n# TYPE mcp_authd_http_request_duration_seconds histogram\n");
	for (r = 0; r <= m->nroutes; r++) {
		const char *name = r < m->nroutes ? m->names[r] : "unknown";
		unsigned long long cum = 0, count = atomic_load(&m->routes[r].count);

		if (count == 0)
			continue;
		for (i = 0; i < NBUCKET; i++) {
			cum += atomic_load(&m->routes[r].buckets[i]);
			rc |= buf_printf(b, "mcp_authd_http_request_duration_seconds_bucket{endpoint="
					    "\"%s\",le=\"%s\"} %llu\n", name, bucket_le[i], cum);
		}
		rc |= buf_printf(b, "mcp_authd_http_request_duration_seconds_bucket{endpoint=\"%s\","
				    "le=\"+Inf\"} %llu\n", name, count);
		rc |= buf_printf(b, "mcp_authd_http_request_duration_seconds_sum{endpoint=\"%s\"} "
				    "%.6f\n", name, (double)atomic_load(&m->routes[r].sum_us) / 1e6);
		rc |= buf_printf(b, "mcp_authd_http_request_duration_seconds_count{endpoint=\"%s\"} "
				    "%llu\n", name, count);
	}
	pthread_mutex_lock(&m->lock);
	rc |= render_pairs(m, b, "mcp_authd_tokens_issued_total", "Access tokens issued, by grant "
	    "and resource.", m->tokens, m->ntokens, "grant", "resource");
	rc |= render_pairs(m, b, "mcp_authd_token_refusals_total", "Token requests refused, by "
	    "grant and error.", m->refusals, m->nrefusals, "grant", "error");
	pthread_mutex_unlock(&m->lock);
	rc |= buf_puts(b, "# HELP mcp_authd_logins_total Login form submissions, by outcome "
			  "(throttled: refused before the password was checked).\n"
			  "# TYPE mcp_authd_logins_total counter\n");
	for (i = 0; i < NLOGIN; i++)
		rc |= buf_printf(b, "mcp_authd_logins_total{outcome=\"%s\"} %llu\n",
		    login_outcomes[i], (unsigned long long)atomic_load(&m->logins[i]));
	rc |= buf_puts(b, "# HELP mcp_authd_limited_total Connections and requests cut by a "
			  "per-address or time limit.\n# TYPE mcp_authd_limited_total counter\n");
	for (i = 0; i < NLIMIT; i++)
		rc |= buf_printf(b, "mcp_authd_limited_total{limit=\"%s\"} %llu\n",
		    limit_names[i], (unsigned long long)atomic_load(&m->limited[i]));
	rc |= buf_printf(b, "# HELP mcp_authd_signing_key_age_seconds Time since the signing key "
			    "became active.\n# TYPE mcp_authd_signing_key_age_seconds gauge\n"
			    "mcp_authd_signing_key_age_seconds %lld\n", (long long)key_age);
	rc |= buf_printf(b, "# HELP mcp_authd_database_size_bytes Size of the database file.\n"
			    "# TYPE mcp_authd_database_size_bytes gauge\n"
			    "mcp_authd_database_size_bytes %lld\n", (long long)db_bytes);
	rc |= buf_printf(b, "# HELP mcp_authd_database_up 1 while the database answers (0: the "
			    "token endpoint answers 503).\n# TYPE mcp_authd_database_up gauge\n"
			    "mcp_authd_database_up %d\n", db_up ? 1 : 0);
	rc |= buf_printf(b, "# HELP mcp_authd_registry_cache_lookups_total Registry reads (clients, "
			    "resources, edges, revoked jtis) answered by the cache (hit) or the "
			    "database (miss).\n# TYPE mcp_authd_registry_cache_lookups_total counter\n"
			    "mcp_authd_registry_cache_lookups_total{result=\"hit\"} %lld\n"
			    "mcp_authd_registry_cache_lookups_total{result=\"miss\"} %lld\n",
	    (long long)cache->hits, (long long)cache->misses);
	rc |= buf_printf(b, "# HELP mcp_authd_registry_cache_reloads_total Full reloads of the "
			    "registry cache (start, reconnects).\n"
			    "# TYPE mcp_authd_registry_cache_reloads_total counter\n"
			    "mcp_authd_registry_cache_reloads_total %lld\n"
			    "# HELP mcp_authd_registry_changes_applied Position in the change log "
			    "this process has applied.\n# TYPE mcp_authd_registry_changes_applied gauge\n"
			    "mcp_authd_registry_changes_applied %lld\n"
			    "# HELP mcp_authd_revoked_jtis Revoked access tokens not yet expired, "
			    "held by the cache.\n# TYPE mcp_authd_revoked_jtis gauge\n"
			    "mcp_authd_revoked_jtis %lld\n",
	    (long long)cache->reloads, (long long)cache->applied_seq,
	    (long long)cache->revoked_jtis);
	rc |= buf_printf(b, "# HELP mcp_authd_uptime_seconds Time since the server started.\n"
			    "# TYPE mcp_authd_uptime_seconds gauge\nmcp_authd_uptime_seconds %lld\n",
	    (long long)uptime);
	rc |= buf_printf(b, "# HELP mcp_authd_build_info Version.\n# TYPE mcp_authd_build_info "
			    "gauge\nmcp_authd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	return rc == BUF_OK ? 0 : -1;
}
