/* The main thread of serve and dev: signals, periodic work, systemd readiness. */
#ifndef MCP_CLI_SERVE_LOOP_H
#define MCP_CLI_SERVE_LOOP_H

#include <stddef.h>

#include "http/app.h"

struct serve_hooks {
	void (*on_tick)(void *arg);   /* every key_check_interval */
	void (*on_hup)(void *arg);    /* after SIGHUP reloaded the keys */
	void *arg;
};

/* Block SIGTERM, SIGINT, SIGHUP (and ignore SIGPIPE) before threads start. */
void serve_block_signals(void);

/* Send a systemd notification ("READY=1") when NOTIFY_SOCKET is set. */
void serve_notify(const char *state);

/* Wait for SIGTERM/SIGINT (returns 0), reloading keys on SIGHUP and checking the
 * keys version on every tick. */
int serve_wait(struct app *app, struct serve_hooks *hooks);

#endif
