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

/* Stateless grants (client_credentials, token exchange) hand their records to one
 * writer thread that commits them in batches: at most every 50 ms or 256 records, on
 * its own connection to db_path. A crash loses at most the last batch. */
int audit_sink_start_writer(struct audit_sink *sink, const char *db_path,
    const struct store_options *opt);

/* Queue a record for the writer (strings are copied). Without a running writer, or
 * when its queue is full, the record is written at once through st. */
int audit_submit(struct audit_sink *sink, struct store *st, const struct store_audit *a);

/* audit_submit with a->detail taken from detail (an object, borrowed; NULL: none) as
 * compact JSON: the shape of every record that says more than its columns. */
int audit_submit_detail(struct audit_sink *sink, struct store *st, const struct store_audit *a,
    const json_t *detail);

/* A refusal made before anyone is known (outcome "refused", now): event, reason, the
 * client when it is one of ours (else NULL), the caller's address and the detail. */
int audit_submit_refusal(struct audit_sink *sink, struct store *st, const char *event,
    const char *reason, const char *client_id, const char *remote_addr, const json_t *detail);

/* Commit what is queued and stop the writer (before the database closes). */
void audit_sink_stop_writer(struct audit_sink *sink);

/* The JSON form of a record (new reference). */
json_t *audit_json(const struct store_audit *a);

#endif
