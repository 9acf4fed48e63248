/* Resource lookup and scope rules over the store. */
#include "config.h"

#include "oauth/registry.h"

#include <stdlib.h>
#include <string.h>

#include "oauth/resource.h"
#include "oauth/scope.h"

static int
any_scope(const struct store_resource *r)
{
	return r->scopes != NULL && strcmp(r->scopes, REGISTRY_ANY_SCOPE) == 0;
}

enum oauth_error
registry_resource_find(struct store *st, const char *uri, int auto_register, int64_t now,
    struct store_resource *out)
{
	struct store_resource r;
	char *reg = NULL, *key = NULL;
	enum oauth_error e = OAUTH_INVALID_TARGET;
	int rc;

	memset(out, 0, sizeof(*out));
	if (uri == NULL || resource_normalize(uri, strlen(uri), &reg, &key) != 0)
		return OAUTH_INVALID_TARGET;
	rc = store_resource_get_by_key(st, key, out);
	if (rc == STORE_NOTFOUND && auto_register) {
		memset(&r, 0, sizeof(r));
		r.uri = reg;
		r.uri_key = key;
		r.name = reg;
		r.scopes = (char *)(uintptr_t)REGISTRY_ANY_SCOPE;
		r.created_at = now;
		/* A concurrent first use may win the insert; either way it exists now. */
		rc = store_resource_add(st, &r, NULL);
		if (rc == STORE_OK || rc == STORE_CONFLICT)
			rc = store_resource_get_by_key(st, key, out);
	}
	if (rc == STORE_OK)
		e = OAUTH_OK;
	else if (rc != STORE_NOTFOUND)
		e = store_rc_transient(rc) ? OAUTH_TEMPORARILY_UNAVAILABLE : OAUTH_SERVER_ERROR;
	free(reg);
	free(key);
	return e;
}

enum oauth_error
registry_resource_for_client(struct store *st, const char *uri, int64_t client,
    int auto_register, int64_t now, struct store_resource *out, int *allowed)
{
	enum oauth_error e;
	char *key = NULL;
	int rc;

	*allowed = 0;
	memset(out, 0, sizeof(*out));
	if (uri == NULL || resource_normalize(uri, strlen(uri), NULL, &key) != 0)
		return OAUTH_INVALID_TARGET;
	rc = store_resource_for_client(st, key, client, out, allowed);
	free(key);
	if (rc == STORE_OK)
		return OAUTH_OK;
	if (rc != STORE_NOTFOUND && store_rc_transient(rc))
		return OAUTH_TEMPORARILY_UNAVAILABLE;
	if (rc != STORE_NOTFOUND || !auto_register)
		return rc == STORE_NOTFOUND ? OAUTH_INVALID_TARGET : OAUTH_SERVER_ERROR;
	/* Dev mode: register it, as registry_resource_find does. */
	if ((e = registry_resource_find(st, uri, 1, now, out)) != OAUTH_OK)
		return e;
	*allowed = store_client_resource_allowed(st, client, out->id) == STORE_OK;
	return OAUTH_OK;
}

int
registry_scope_allowed(const struct store_resource *r, const char *scope)
{
	return any_scope(r) || scope_subset(scope, r->scopes);
}

const char *
registry_default_scopes(const struct store_resource *r)
{
	if (r->default_scopes != NULL)
		return r->default_scopes;
	return any_scope(r) ? "" : r->scopes;
}

char *
registry_scope_for(const struct store_resource *r, const char *granted)
{
	if (any_scope(r))
		return strdup(granted ? granted : "");
	return scope_intersect_new(granted, r->scopes);
}
