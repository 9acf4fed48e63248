/* The HTTP server: libmicrohttpd with an internal thread pool, routing, bounded bodies. */
#ifndef MCP_HTTP_SERVER_H
#define MCP_HTTP_SERVER_H

#include <stdint.h>

#include "http/app.h"

struct server;

/* Start serving app on listen ("ADDR:PORT", "[V6]:PORT" or ":PORT"; port 0 lets
 * the OS choose), or on listen_fd when it is >= 0 (a socket already bound and
 * listening; the server takes it). threads 0 means one per core. On failure err
 * gets a reason. */
int server_start(struct app *app, const char *listen, int listen_fd, unsigned int threads,
    struct server **out, char *err, size_t errlen);

/* A listening TCP socket on 127.0.0.1:port (0: the OS chooses); *bound gets the
 * port. -1 on failure. */
int server_listen_loopback(uint16_t port, uint16_t *bound);

/* The port actually bound. */
uint16_t server_port(const struct server *srv);

/* Stop accepting and let in-flight requests finish, for at most grace_ms (with
 * app->stopping set, every answer closes its connection). */
void server_drain(struct server *srv, int grace_ms);

/* Close what is left, join the threads, free; accepts NULL. */
void server_stop(struct server *srv);

#endif
