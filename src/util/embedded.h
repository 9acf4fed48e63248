/* Files compiled into the binary (schema migrations, default templates). */
#ifndef MCP_UTIL_EMBEDDED_H
#define MCP_UTIL_EMBEDDED_H

#include <stddef.h>

/* One embedded file; arrays of these end with an entry whose name is NULL.
 * data is NUL-terminated; len excludes the NUL. */
struct embedded_file {
	const char *name;
	const char *data;
	size_t len;
};

/* sql/sqlite/NNN_*.sql and sql/postgresql/NNN_*.sql in name order. */
extern const struct embedded_file embedded_sql_sqlite[];
extern const struct embedded_file embedded_sql_postgresql[];

/* The default page templates (templates/NAME.html). */
extern const struct embedded_file embedded_templates[];

#endif
