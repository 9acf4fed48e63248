/* Login throttling over the login_failures table: the policy, not the storage. */
#include "config.h"

#include "oauth/throttle.h"

#include <stdio.h>

#include "util/netaddr.h"

#define SUBJECT_MAX 192

int64_t
throttle_delay(const struct throttle_policy *p, int64_t after, int64_t failures)
{
	int64_t d = p->delay;

	if (failures < after)
		return 0;
	for (failures -= after; failures > 0 && d < p->max_delay; failures--)
		d *= 2;
	return d < p->max_delay ? d : p->max_delay;
}

static void
user_subject(const char *username, char out[SUBJECT_MAX])
{
	snprintf(out, SUBJECT_MAX, "user:%s", username);
}

static void
addr_subject(const char *addr, char out[SUBJECT_MAX])
{
	char key[64];

	if (netaddr_key(addr, key, sizeof(key)) != 0)
		snprintf(key, sizeof(key), "%s", addr);
	snprintf(out, SUBJECT_MAX, "addr:%s", key);
}

int
throttle_check(struct store *st, const struct throttle_policy *p, const char *username,
    const char *addr, int64_t now_ms, int64_t *wait_ms, const char **which)
{
	char subject[SUBJECT_MAX];
	int64_t user_until = 0, addr_until = 0;
	int rc;

	*wait_ms = 0;
	*which = NULL;
	if (!p->enabled)
		return 0;
	user_subject(username, subject);
	if ((rc = store_login_blocked_until(st, subject, &user_until)) != STORE_OK)
		return rc;
	addr_subject(addr, subject);
	if ((rc = store_login_blocked_until(st, subject, &addr_until)) != STORE_OK)
		return rc;
	if (user_until <= now_ms && addr_until <= now_ms)
		return 0;
	*which = user_until >= addr_until ? "account" : "address";
	*wait_ms = (user_until > addr_until ? user_until : addr_until) - now_ms;
	return 1;
}

/* One subject's failure, and its block when it has earned one. */
static int
count_failure(struct store *st, const struct throttle_policy *p, const char *subject,
    int64_t after, int64_t now_ms)
{
	int64_t failures, d;
	int rc;

	rc = store_login_failure_add(st, subject, now_ms, now_ms - p->window * 1000, &failures);
	if (rc != STORE_OK)
		return rc;
	if ((d = throttle_delay(p, after, failures)) == 0)
		return STORE_OK;
	return store_login_block(st, subject, now_ms + d * 1000);
}

int
throttle_failure(struct store *st, const struct throttle_policy *p, const char *username,
    const char *addr, int64_t now_ms)
{
	char subject[SUBJECT_MAX];
	int rc;

	if (!p->enabled)
		return STORE_OK;
	user_subject(username, subject);
	if ((rc = count_failure(st, p, subject, p->user_after, now_ms)) != STORE_OK)
		return rc;
	addr_subject(addr, subject);
	return count_failure(st, p, subject, p->addr_after, now_ms);
}

int
throttle_success(struct store *st, const struct throttle_policy *p, const char *username)
{
	char subject[SUBJECT_MAX];

	if (!p->enabled)
		return STORE_OK;
	user_subject(username, subject);
	return store_login_failures_clear(st, subject);
}

int
throttle_rate_take(struct store *st, const char *kind, const char *key, int64_t limit,
    int64_t window_secs, int64_t now, int64_t *retry_after)
{
	char subject[160];
	int64_t start = now - now % window_secs, count = 0;
	int rc;

	*retry_after = 0;
	if (limit <= 0)
		return 1;
	snprintf(subject, sizeof(subject), "%s:%s", kind, key ? key : "");
	if ((rc = store_rate_take(st, subject, start, &count)) != STORE_OK)
		return rc;
	if (count <= limit)
		return 1;
	*retry_after = start + window_secs - now;
	return 0;
}
