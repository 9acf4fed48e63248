/* The audit trail: one record per issued, exchanged, refused or revoked token, to the
 * audit table and, when configured, as JSON lines to a file. Never a token, code or
 * secret: records name the client, subject, resource, act chain and jti. */
#ifndef MCP_OAUTH_AUDIT_H
#define MCP_OAUTH_AUDIT_H

#include <jansson.h>

#include "store/store.h"

struct audit_sink;

/* A sink appending JSON lines to path (NULL: table only). */
int audit_sink_open(const char *path, struct audit_sink **out);

/* Reopen the file (after log rotation; SIGHUP). */
int audit_sink_reopen(struct audit_sink *sink);

void audit_sink_close(struct audit_sink *sink);

/* Write a record now, inside the caller's transaction when there is one (stateful
 * grants commit their audit record with their state change), and to the file. */
int audit_write(struct store *st, struct audit_sink *sink, const struct store_audit *a);

/* The JSON form of a record (new reference). */
json_t *audit_json(const struct store_audit *a);

#endif
