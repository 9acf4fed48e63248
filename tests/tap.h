/* A small TAP producer for the unit tests (one header, no library). */
#ifndef MCP_TESTS_TAP_H
#define MCP_TESTS_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string literal where the store's structs take char * (they never write it). */
#define MUT(s) ((char *)(uintptr_t)(s))

static int tap_count;
static int tap_failures;

static void __attribute__((format(printf, 4, 5)))
tap_result(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!pass)
		tap_failures++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
}

#define ok(cond, ...) tap_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                          \
	do {                                                                            \
		long long g_ = (long long)(got), w_ = (long long)(want);                \
		tap_result(g_ == w_, __FILE__, __LINE__, __VA_ARGS__);                  \
		if (g_ != w_)                                                           \
			printf("#   got %lld, want %lld\n", g_, w_);                        \
	} while (0)

#define is_str(got, want, ...)                                                          \
	do {                                                                            \
		const char *g_ = (got), *w_ = (want);                                   \
		int p_ = (g_ == NULL && w_ == NULL) ||                                  \
		    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);                  \
		tap_result(p_, __FILE__, __LINE__, __VA_ARGS__);                        \
		if (!p_)                                                                \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",            \
			    w_ ? w_ : "(null)");                                       \
	} while (0)

static void __attribute__((format(printf, 1, 2), unused))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Print the plan and return the exit status for main(). */
static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures == 0 ? 0 : 1;
}

/* Read tests/data/<name> (from $TOP_SRCDIR) into a new NUL-terminated buffer. */
__attribute__((unused)) static char *
tap_read_data(const char *name, size_t *len)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", name);
	if ((f = fopen(path, "rb")) == NULL) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

#endif
