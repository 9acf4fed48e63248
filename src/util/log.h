/* One line per event to stderr; never a token, code, secret or password. */
#ifndef MCP_UTIL_LOG_H
#define MCP_UTIL_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Messages above this level are dropped (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);

/* Parse "error", "warn", "info", "debug"; 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);

/* Write one line: "<UTC time> <level> <message>\n", atomically with respect to
 * other threads. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
