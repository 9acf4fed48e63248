/* Moving a deployment between databases (store copy): every table, row by row, through
 * each backend's generic row reader and writer. The statements are written once here:
 * both dialects accept the same column lists and $N placeholders. */
#include "config.h"

#include <string.h>

#include "store/backend.h"

struct copy_sql {
	const char *name;
	const char *select_sql;
	const char *insert_sql;
	const char *count_sql;
};

#define COPY_TABLE(table, cols, params, order)                                                   \
	{                                                                                        \
		#table, "SELECT " cols " FROM " #table " ORDER BY " order,                       \
		    "INSERT INTO " #table "(" cols ") VALUES (" params ")",                      \
		    "SELECT count(*) FROM " #table                                               \
	}

#define P2 "$1, $2"
#define P3 P2 ", $3"
#define P4 P3 ", $4"
#define P5 P4 ", $5"
#define P6 P5 ", $6"
#define P7 P6 ", $7"
#define P8 P7 ", $8"
#define P9 P8 ", $9"
#define P10 P8 ", $9, $10"
#define P12 P10 ", $11, $12"
#define P13 P12 ", $13"
#define P16 P13 ", $14, $15, $16"
#define P18 P16 ", $17, $18"
#define P19 P18 ", $19"

/* Credentials, connections' client secrets and users' tokens at connections go as they
 * are: their data keys stay sealed under the same master key.
 * Not copied: used_jtis, the replay cache of assertions. A record matters only until its
 * assertion expires (minutes), so an assertion used just before the copy could be
 * presented once more within that time; starting the copied deployment that much later
 * closes the gap. */
static const struct copy_sql tables[STORE_TABLE_COUNT] = {
    [STORE_T_SETTINGS] = COPY_TABLE(settings, "key, value", P2, "key"),
    [STORE_T_USERS] = COPY_TABLE(users,
	"id, name, password_hash, disabled, created_at, idp, idp_sub, email, idp_groups", P9, "id"),
    [STORE_T_RESOURCES] = COPY_TABLE(resources,
	"id, uri, uri_key, name, scopes, default_scopes, access_token_ttl, created_at", P8, "id"),
    [STORE_T_EXCHANGE_EDGES] = COPY_TABLE(exchange_edges, "from_id, to_id, scopes, created_at",
	P4, "from_id, to_id"),
    [STORE_T_CLIENTS] = COPY_TABLE(clients,
	"id, client_id, name, confidential, auth_method, secret_hash, grant_types, acts_for, "
	"default_resource, introspect_admin, origin, metadata, remote_addr, created_at, "
	"updated_at, metadata_expires_at, jwks, jwks_uri",
	P18, "id"),
    [STORE_T_CLIENT_REDIRECT_URIS] = COPY_TABLE(client_redirect_uris, "client, uri", P2,
	"client, uri"),
    [STORE_T_CLIENT_RESOURCES] = COPY_TABLE(client_resources, "client, resource", P2,
	"client, resource"),
    [STORE_T_REGISTRATION_TOKENS] = COPY_TABLE(registration_tokens,
	"token_hash, created_at, expires_at", P3, "token_hash"),
    [STORE_T_CONSENTS] = COPY_TABLE(consents,
	"user_id, client, resources, scope, created_at, expires_at", P6,
	"user_id, client, resources, scope"),
    [STORE_T_SESSIONS] = COPY_TABLE(sessions, "id_hash, user_id, auth_time, created_at, expires_at",
	P5, "id_hash"),
    [STORE_T_AUTH_CODES] = COPY_TABLE(auth_codes,
	"code_hash, client, user_id, redirect_uri, redirect_uri_given, code_challenge, resources, "
	"scope, auth_time, created_at, expires_at, redeemed_at, family_id",
	P13, "code_hash"),
    [STORE_T_TOKEN_FAMILIES] = COPY_TABLE(token_families,
	"family_id, client, user_id, resources, scope, auth_time, created_at, expires_at, "
	"revoked_at, revoke_reason",
	P10, "family_id"),
    [STORE_T_REFRESH_TOKENS] = COPY_TABLE(refresh_tokens,
	"token_hash, family_id, scope, issued_at, expires_at, rotated_at, access_jti, "
	"access_expires_at",
	P8, "token_hash"),
    [STORE_T_REVOKED_JTIS] = COPY_TABLE(revoked_jtis, "jti, expires_at, revoked_at", P3, "jti"),
    [STORE_T_KEYS] = COPY_TABLE(keys,
	"id, kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at, "
	"delete_after",
	P10, "id"),
    [STORE_T_AUDIT] = COPY_TABLE(audit,
	"id, ts, event, outcome, reason, client_id, subject, resource, act, jti, remote_addr, "
	"detail",
	P12, "id"),
    [STORE_T_LOGIN_FAILURES] = COPY_TABLE(login_failures,
	"subject, failures, last_failure, blocked_until", P4, "subject"),
    [STORE_T_RATE_LIMITS] = COPY_TABLE(rate_limits, "key, window_start, count", P3,
	"key, window_start"),
    [STORE_T_IDPS] = COPY_TABLE(idps,
	"id, name, issuer, client_id, client_secret_enc, display_name, scopes, claim_user, "
	"claim_email, claim_groups, allowed_groups, jit, link_verified_email, allow_private, "
	"created_at, jwks_uri, jwks, id_jag, id_jag_clients",
	P19, "id"),
    [STORE_T_IDP_GROUP_MAPS] = COPY_TABLE(idp_group_maps,
	"idp, group_name, resource, scopes, created_at", P5, "idp, group_name, resource"),
    [STORE_T_UPSTREAM_LOGINS] = COPY_TABLE(upstream_logins,
	"state_hash, idp, browser_hash, nonce, code_verifier, authorize_query, created_at, "
	"expires_at",
	P8, "state_hash"),
    [STORE_T_CREDENTIALS] = COPY_TABLE(credentials,
	"id, name, version, wrapped_key, secret_enc, fingerprint, created_at, retires_at", P8,
	"id"),
    [STORE_T_RESOURCE_CREDENTIALS] = COPY_TABLE(resource_credentials, "resource, name, created_at",
	P3, "resource, name"),
    [STORE_T_CONNECTIONS] = COPY_TABLE(connections,
	"id, name, authorize_url, token_url, revoke_url, client_id, wrapped_key, secret_enc, "
	"scopes, resource, allow_private, created_at",
	P12, "id"),
    [STORE_T_USER_CONNECTIONS] = COPY_TABLE(user_connections,
	"connection, user_id, generation, wrapped_key, tokens_enc, fingerprint, scope, "
	"expires_at, refreshing_until, needs_reauth, created_at, updated_at",
	P12, "connection, user_id"),
    [STORE_T_CONNECT_STATES] = COPY_TABLE(connect_states,
	"state_hash, connection, user_id, session_hash, code_verifier, created_at, expires_at",
	P7, "state_hash"),
};

const char *
store_table_name(enum store_table t)
{
	return (unsigned)t < STORE_TABLE_COUNT ? tables[t].name : "?";
}

struct paste {
	struct store *dst;
	const char *insert_sql;
	int64_t n;
};

static int
paste_one(const struct store_copy_row *row, void *arg)
{
	struct paste *p = arg;
	int rc = p->dst->be->paste_row(p->dst, p->insert_sql, row);

	if (rc == STORE_OK)
		p->n++;
	return rc;
}

int
store_copy(struct store *src, struct store *dst, struct store_copy_report *out)
{
	int64_t n;
	int t, rc, src_tx = 0;

	memset(out, 0, sizeof(*out));
	out->failed_table = -1;
	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		if ((rc = dst->be->count_rows(dst, tables[t].count_sql, &n)) != STORE_OK)
			return rc;
		if (n > 0)
			return STORE_CONFLICT;
	}
	/* The source inside one transaction: every table from the same moment. */
	if ((rc = store_begin(src)) != STORE_OK)
		return rc;
	src_tx = 1;
	if ((rc = store_begin(dst)) != STORE_OK)
		goto out;
	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		struct paste p = {dst, tables[t].insert_sql, 0};

		if ((rc = src->be->copy_rows(src, tables[t].select_sql, paste_one, &p)) != STORE_OK) {
			out->failed_table = t;
			break;
		}
		out->rows[t] = p.n;
	}
	if (rc == STORE_OK)
		rc = dst->be->paste_done(dst);
	if (rc != STORE_OK) {
		store_rollback(dst);
		goto out;
	}
	if ((rc = store_commit(dst)) != STORE_OK)
		goto out;
	/* Verified: the destination holds as many rows as were read, and so does the source
	 * (still inside its transaction). */
	for (t = 0; t < STORE_TABLE_COUNT; t++) {
		int64_t in_src = 0, in_dst = 0;

		if ((rc = src->be->count_rows(src, tables[t].count_sql, &in_src)) != STORE_OK ||
		    (rc = dst->be->count_rows(dst, tables[t].count_sql, &in_dst)) != STORE_OK)
			goto out;
		if (in_src != out->rows[t] || in_dst != out->rows[t]) {
			out->failed_table = t;
			rc = STORE_ERROR;
			goto out;
		}
	}
	rc = STORE_OK;
out:
	if (src_tx)
		store_rollback(src);
	return rc;
}
