/* serve: run the authorization server. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/serve_loop.h"
#include "http/server.h"
#include "oauth/issuer.h"
#include "util/log.h"

/* HTTP worker threads: `threads`, or by default one per core, four per core on
 * PostgreSQL, where a request's thread waits for network round trips and group commit
 * needs several commits in flight at once (BENCHMARKS.md). */
static unsigned int
serve_threads(const struct cli *c)
{
	long n;

	if (c->cfg.threads > 0)
		return (unsigned int)c->cfg.threads;
	if (!store_location_is_url(c->cfg.db))
		return 0; /* the server's own default: one per core */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (unsigned int)(n > 0 ? 4 * n : 4);
}

int
cmd_serve(struct cli *c, int argc, char **argv)
{
	struct app app;
	struct server *srv = NULL;
	struct master_key mk;
	char err[512], *issuer = NULL;
	const char *pos[1];
	int npos, rc, app_ready = 0;

	memset(&mk, 0, sizeof(mk));
	if ((rc = cli_parse(c, argc - 1, argv + 1, NULL, pos, 0, &npos)) != 0)
		return rc;
	if ((rc = cli_config_load(c)) != 0)
		return rc;
	if ((rc = cli_open_store(c, 0)) != 0)
		return rc;
	if ((rc = cli_issuer(c, &issuer)) != 0)
		goto out;
	if (issuer_check(issuer, (int)c->cfg.allow_insecure_issuer, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	if ((rc = cli_master_key(c, &mk)) != 0)
		goto out;
	serve_block_signals();
	app_ready = 1; /* app_free copes with a partly initialised app */
	if (app_init(&app, &c->cfg, issuer, c->cfg.db, &mk, 0, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out_app;
	}
	if (server_start(&app, c->cfg.listen, -1, serve_threads(c), &srv, err, sizeof(err)) != 0) {
		rc = cli_fail("%s", err);
		goto out_app;
	}
	log_info("mcp-authd %s listening on %s (port %u), issuer %s", PACKAGE_VERSION,
	    c->cfg.listen, server_port(srv), app.issuer);
	serve_notify("READY=1");
	rc = serve_wait(&app, NULL) == 0 ? EXIT_OK : EXIT_USER;
	/* In-flight requests finish with the worker pools still running, then the
	 * pools stop (they may hold suspended connections), then the threads. */
	server_drain(srv, 10000);
	app_quiesce(&app);
	server_stop(srv);
	log_info("stopped");
out_app:
	if (app_ready)
		app_free(&app);
out:
	master_key_wipe(&mk);
	free(issuer);
	return rc;
}
