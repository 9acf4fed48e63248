/* Upstream providers: the user's identity from the claims, and what their groups reach. */
#include "config.h"

#include "oauth/upstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/scope.h"
#include "util/buf.h"

void
upstream_identity_clear(struct upstream_identity *id)
{
	if (id == NULL)
		return;
	free(id->subject);
	free(id->email);
	json_decref(id->groups);
	memset(id, 0, sizeof(*id));
}

int
upstream_identity_wants_userinfo(const struct store_idp *p, const json_t *id_claims)
{
	return json_object_get(id_claims, p->claim_user) == NULL ||
	    json_object_get(id_claims, p->claim_email) == NULL ||
	    json_object_get(id_claims, p->claim_groups) == NULL;
}

/* The claim from the ID token, else from userinfo. */
static const json_t *
claim(const json_t *id_claims, const json_t *userinfo, const char *name)
{
	const json_t *v = json_object_get(id_claims, name);

	return v != NULL || userinfo == NULL ? v : json_object_get(userinfo, name);
}

static int
group_ok(const json_t *g)
{
	const char *s = json_string_value(g);

	return s != NULL && s[0] != '\0' && strlen(s) <= UPSTREAM_GROUP_MAX;
}

static int
read_groups(const json_t *v, json_t **out, char *err, size_t errlen)
{
	const json_t *g;
	size_t i;

	*out = json_array();
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (!group_ok(v))
			goto bad;
		return json_array_append(*out, (json_t *)(uintptr_t)v);
	}
	if (!json_is_array(v) || json_array_size(v) > UPSTREAM_MAX_GROUPS)
		goto bad;
	json_array_foreach(v, i, g) {
		if (!group_ok(g))
			goto bad;
		json_array_append(*out, (json_t *)(uintptr_t)g);
	}
	return 0;
bad:
	json_decref(*out);
	*out = NULL;
	snprintf(err, errlen, "the groups claim is not a list of at most %d group names",
	    UPSTREAM_MAX_GROUPS);
	return -1;
}

int
upstream_identity_read(const struct store_idp *p, const json_t *id_claims,
    const json_t *userinfo, struct upstream_identity *out, char *err, size_t errlen)
{
	const char *sub = json_string_value(json_object_get(id_claims, "sub"));
	const char *user, *email, *info_sub;
	const json_t *verified;

	memset(out, 0, sizeof(*out));
	if (userinfo != NULL) {
		info_sub = json_string_value(json_object_get(userinfo, "sub"));
		if (info_sub == NULL || sub == NULL || strcmp(info_sub, sub) != 0) {
			snprintf(err, errlen, "the userinfo answer is about another subject");
			return -1;
		}
	}
	user = json_string_value(claim(id_claims, userinfo, p->claim_user));
	if (user == NULL || user[0] == '\0' || strlen(user) > 255) {
		snprintf(err, errlen, "the provider did not assert the user claim %s", p->claim_user);
		return -1;
	}
	email = json_string_value(claim(id_claims, userinfo, p->claim_email));
	verified = claim(id_claims, userinfo, "email_verified");
	if ((out->subject = strdup(user)) == NULL ||
	    (email != NULL && strlen(email) <= 320 && (out->email = strdup(email)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		upstream_identity_clear(out);
		return -1;
	}
	out->email_verified = out->email != NULL && json_is_true(verified);
	if (read_groups(claim(id_claims, userinfo, p->claim_groups), &out->groups, err, errlen) != 0) {
		upstream_identity_clear(out);
		return -1;
	}
	return 0;
}

static int
in_groups(const json_t *groups, const char *name)
{
	const json_t *g;
	size_t i;

	json_array_foreach(groups, i, g) {
		if (strcmp(json_string_value(g), name) == 0)
			return 1;
	}
	return 0;
}

int
upstream_groups_allowed(const char *allowed, const json_t *groups)
{
	const json_t *g;
	size_t i;

	if (allowed == NULL)
		return 1;
	json_array_foreach(groups, i, g) {
		if (scope_has(allowed, json_string_value(g)))
			return 1;
	}
	return 0;
}

char *
upstream_reach_new(const struct upstream_map *maps, size_t n, const json_t *groups,
    const char *resource_uri, const char *resource_scopes, int *reachable)
{
	struct buf b;
	char *copy, *tok, *save = NULL, *out;
	size_t i;

	*reachable = 0;
	if (n == 0) {
		*reachable = 1;
		return strdup(resource_scopes);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(maps[i].resource_uri, resource_uri) == 0 && in_groups(groups, maps[i].group))
			*reachable = 1;
	}
	if (!*reachable)
		return NULL;
	/* Each scope of the resource that some mapping of the groups allows, in the
	 * resource's order. */
	if ((copy = strdup(resource_scopes)) == NULL)
		return NULL;
	buf_init(&b, 0);
	for (tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		for (i = 0; i < n; i++) {
			if (strcmp(maps[i].resource_uri, resource_uri) == 0 &&
			    in_groups(groups, maps[i].group) &&
			    (maps[i].scopes == NULL || scope_has(maps[i].scopes, tok))) {
				if ((b.len > 0 && buf_puts(&b, " ") != BUF_OK) || buf_puts(&b, tok) != BUF_OK)
					goto oom;
				break;
			}
		}
	}
	free(copy);
	if ((out = strdup(b.data != NULL ? b.data : "")) == NULL)
		goto oom_freed;
	buf_free(&b);
	return out;
oom:
	free(copy);
oom_freed:
	buf_free(&b);
	return NULL;
}
