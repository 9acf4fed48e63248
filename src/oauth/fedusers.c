/* The user behind an upstream subject. */
#include "config.h"

#include "oauth/fedusers.h"

#include <stdio.h>
#include <string.h>

#define SUBJECT_MAX 255

static int
subject_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return 0;
	}
	return n > 0 && n <= SUBJECT_MAX;
}

enum fed_user
fed_user_find(struct store *st, const struct store_idp *p, const char *subject,
    const char *email, int email_verified, int64_t now, struct store_user *u)
{
	int64_t uid = 0;
	char name[300];
	int rc;

	memset(u, 0, sizeof(*u));
	if (!subject_ok(subject))
		return FED_BAD_SUBJECT;
	rc = store_user_get_by_idp(st, p->name, subject, u);
	if (rc == STORE_OK)
		return FED_FOUND;
	if (rc != STORE_NOTFOUND)
		return FED_STORE_ERROR;
	if (p->link_verified_email && email != NULL && email_verified &&
	    store_user_get_by_name(st, email, u) == STORE_OK) {
		/* A local user named by this email, which the provider vouches for: the first
		 * sign-in claims it. */
		uid = u->id;
		store_user_clear(u);
		if (store_user_link_idp(st, uid, p->name, subject) != STORE_OK ||
		    store_user_get(st, uid, u) != STORE_OK) {
			store_user_clear(u);
			return FED_EMAIL_TAKEN;
		}
		return FED_LINKED;
	}
	if (!p->jit)
		return FED_UNKNOWN;
	snprintf(name, sizeof(name), "%s:%s", p->name, subject);
	if (store_user_add_federated(st, name, p->name, subject, now, &uid) != STORE_OK ||
	    store_user_get(st, uid, u) != STORE_OK) {
		store_user_clear(u);
		return FED_STORE_ERROR;
	}
	return FED_CREATED;
}
