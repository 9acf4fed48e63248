/* The main thread of a running server: signals, key-change polling, readiness. */
#include "config.h"

#include "cli/serve_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

void
serve_block_signals(void)
{
	sigset_t set;

	/* Blocked before the worker threads start, so that they inherit the mask and
	 * only this thread takes the signals, in sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
serve_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n;
	int fd;

	/* systemd's readiness protocol is one datagram; no library needed. */
	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

int
serve_wait(struct app *app, struct serve_hooks *hooks)
{
	sigset_t set;
	struct timespec tmo;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		tmo.tv_sec = (time_t)app->cfg->key_check_interval;
		tmo.tv_nsec = 0;
		sig = sigtimedwait(&set, NULL, &tmo);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: finishing in-flight requests", sig);
			serve_notify("STOPPING=1");
			return 0;
		}
		if (sig == SIGHUP) {
			if (app_keys_reload(app) != 0)
				log_error("key reload failed; keeping the current keys");
			if (audit_sink_reopen(app->audit) != 0)
				log_error("cannot reopen the audit file");
			/* Said once done, so that whoever waits for this line finds it true. */
			log_info("SIGHUP: keys reloaded, audit file reopened");
			if (hooks != NULL && hooks->on_hup != NULL)
				hooks->on_hup(hooks->arg);
			continue;
		}
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		/* A timeout: scheduled rotation, purge, and rotations made elsewhere. */
		app_maintain(app, (int64_t)time(NULL));
		if (hooks != NULL && hooks->on_tick != NULL)
			hooks->on_tick(hooks->arg);
	}
}
