/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: one epoll loop for the listening socket, the clients
 * and the signals (signalfd). Every client is non-blocking and bounded:
 *  - a request line is at most IN_MAX bytes; a longer one is answered with
 *    an error and the client closed;
 *  - responses queue up to OUT_MAX bytes for a client that does not read;
 *    past that it is dropped;
 *  - a request that waits for the data plane (commands.c) parks its client
 *    (its later requests wait their turn, responses stay in order) while
 *    the loop serves everyone else;
 *  - at most CLIENTS_MAX at once.
 * Only root and the configured group are served (SO_PEERCRED; the peer's
 * supplementary groups from /proc/PID/status).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>

#include "commands.h"
#include "kapa_publish.h"
#include "server.h"

#define IN_MAX (256 * 1024)
#define OUT_MAX (16 * 1024 * 1024)
#define CLIENTS_MAX 64

struct client {
	int fd;
	pid_t pid;
	char *in;		/* IN_MAX bytes */
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	int waiting;		/* a request is pending */
	int closing;		/* close once the output is out */
	struct kapad_pending pending;
};

struct server {
	struct kapad *k;
	int ep, lfd, sfd;
	struct client *clients[CLIENTS_MAX];
	int stop;
};

/* ---- the socket ------------------------------------------------------------------- */

/* Whether a kapad already answers on @p path (then we must not take it). */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), in_use;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	in_use = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return in_use;
}

static int
listen_socket(struct kapad *k, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = k->conf.socket;
	char dir[sizeof(sa.sun_path)], *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s: at most %zu characters", path,
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (socket_in_use(path)) {
		snprintf(err, errlen, "another kapad serves %s", path);
		return -1;
	}
	unlink(path);	/* a stale one, left by a kapad that was killed */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Owner root, group kapad's. A kapad that is not root (the unit tests,
	 * someone's own instance on a socket of theirs) cannot give the socket
	 * away: it stays the runner's, and the peer check still decides. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 ||
	    (chown(path, 0, k->group_gid != (gid_t)-1 ? k->group_gid : 0) != 0 &&
	     (errno != EPERM || geteuid() == 0)) ||
	    listen(fd, 64) != 0) {
		snprintf(err, errlen, "cannot serve %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Root, or in kapad's group (primary or supplementary). */
static int
peer_allowed(struct kapad *k, const struct ucred *cr)
{
	char path[64], line[1024], *p, *end;
	FILE *f;
	int allowed = 0;

	if (cr->uid == 0)
		return 1;
	if (k->group_gid == (gid_t)-1)
		return 0;
	if (cr->gid == k->group_gid)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cr->pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (!allowed && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7;; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if ((gid_t)g == k->group_gid)
				allowed = 1;
		}
	}
	fclose(f);
	return allowed;
}

/* ---- clients ---------------------------------------------------------------------- */

static void
client_close(struct server *s, int i)
{
	struct client *c = s->clients[i];

	if (c->waiting)
		kapad_pending_drop(s->k, &c->pending);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	s->clients[i] = NULL;
}

/* Write what is queued. @return 0, or -1 when the client is gone. */
static int
client_flush(struct server *s, struct client *c)
{
	struct epoll_event ev = { .data.ptr = c };
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing)
			return -1;
	}
	ev.events = EPOLLIN | EPOLLRDHUP | (c->out_len ? EPOLLOUT : 0);
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

/* Queue a response line (owns @p resp). @return 0, or -1: drop the client. */
static int
client_send(struct server *s, struct client *c, json_t *resp)
{
	char *text = resp != NULL ? json_dumps(resp, JSON_COMPACT) : NULL;
	size_t len, need;

	json_decref(resp);
	if (text == NULL)
		return -1;
	len = strlen(text);
	need = c->out_len + len + 1;
	if (need - c->out_off > OUT_MAX) {
		kapad_log(LOG_WARNING, "client pid %d does not read its responses: dropped",
			  (int)c->pid);
		free(text);
		return -1;
	}
	if (need > c->out_cap && c->out_off > 0) {
		/* What went out makes room first. Without this, a client that
		 * reads but stays behind (its output never empties, so out_off
		 * never goes back to 0) grows the buffer by everything it was
		 * ever sent: the bound held on what waits, not on the memory. */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		need -= c->out_off;
		c->out_off = 0;
	}
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *o;

		while (cap < need)
			cap *= 2;
		o = realloc(c->out, cap);
		if (o == NULL) {
			free(text);
			return -1;
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	free(text);
	return client_flush(s, c);
}

/* Requests buffered, one at a time, until one waits. @return 0, or -1. */
static int
client_process(struct server *s, struct client *c)
{
	char *nl;
	size_t used;
	json_t *resp;

	while (!c->waiting && !c->closing &&
	       (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		used = (size_t)(nl - c->in) + 1;
		resp = nl == c->in ? NULL : kapad_request(s->k, c->in, used - 1, &c->pending);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (nl == c->in && resp == NULL && c->pending.kind == KAPAD_WAIT_NONE)
			continue;	/* an empty line */
		if (resp == NULL) {
			c->waiting = 1;
			return 0;
		}
		if (client_send(s, c, resp) != 0)
			return -1;
	}
	if (c->in_len == IN_MAX) {
		c->closing = 1;
		return client_send(s, c, kapad_error(NULL, E2BIG, "a request line is at most "
						     "%d bytes", IN_MAX));
	}
	return 0;
}

static int
client_read(struct server *s, struct client *c)
{
	ssize_t n;

	for (;;) {
		if (c->in_len == IN_MAX && c->waiting) {
			/* Parked (a request waits for the data plane) with the buffer
			 * full of the requests queued behind it: no line is over the
			 * bound, so no E2BIG. Read no more until the answer: EPOLLIN
			 * off here, on again with the answer (client_flush()). A peer
			 * that hung up meanwhile is gone (EPOLLHUP comes regardless). */
			struct epoll_event ev = { .events = c->out_len ? EPOLLOUT : 0,
						  .data.ptr = c };
			struct pollfd p = { .fd = c->fd };

			if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
				return -1;
			epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
			return 0;
		}
		if (c->in_len == IN_MAX)
			return client_process(s, c);
		n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return client_process(s, c);
		if (n <= 0)
			return -1;	/* gone (its pending answer has no one to go to) */
		c->in_len += (size_t)n;
	}
}

static void
accept_clients(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct client *c;
	int fd, i;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		static const char busy[] =
			"{\"ok\":false,\"error\":\"too many clients\",\"code\":\"EBUSY\"}\n";
		static const char denied[] =
			"{\"ok\":false,\"error\":\"permission denied: root or kapad's group only\","
			"\"code\":\"EACCES\"}\n";

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
		    !peer_allowed(s->k, &cr)) {
			kapad_log(LOG_WARNING, "refused a client (uid %d, pid %d): not root nor in "
				  "the group", (int)cr.uid, (int)cr.pid);
			if (send(fd, denied, sizeof(denied) - 1, MSG_NOSIGNAL) < 0)
				(void)0;	/* it may be gone already */
			close(fd);
			continue;
		}
		for (i = 0; i < CLIENTS_MAX && s->clients[i] != NULL; i++)
			;
		c = i < CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
		if (c != NULL)
			c->in = malloc(IN_MAX);
		if (c == NULL || c->in == NULL) {
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0)
				(void)0;
			if (c != NULL)
				free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pid = cr.pid;
		ev.data.ptr = c;
		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
		s->clients[i] = c;
	}
}

/* ---- signals ---------------------------------------------------------------------- */

static void
reload(struct kapad *k)
{
	struct kapad_config c = { .rules = k->conf.rules };
	char err[512];

	sd_notify(0, "RELOADING=1");
	kapad_config_defaults(&c);
	c.rules = malloc(KAPA_MAX_RULES * sizeof(*c.rules));
	if (c.rules == NULL) {
		kapad_log(LOG_ERR, "reload: out of memory");
	} else if (k->config_path == NULL) {
		kapad_log(LOG_INFO, "reload: no config file, nothing to read");
		free(c.rules);
	} else if (kapad_config_load(&c, k->config_path, err, sizeof(err)) != 0) {
		kapad_log(LOG_ERR, "reload: %s; the configuration in force stays", err);
		free(c.rules);
	} else {
		if (strcmp(c.socket, k->conf.socket) != 0 || strcmp(c.map_root, k->conf.map_root) != 0 ||
		    strcmp(c.metrics, k->conf.metrics) != 0 || strcmp(c.group, k->conf.group) != 0)
			kapad_log(LOG_WARNING, "reload: socket, group, map_root and metrics take "
				  "effect at the next start");
		free(k->conf.rules);
		k->conf.rules = c.rules;
		k->conf.nrules = c.nrules;
		k->conf.have_default = c.have_default;
		k->conf.def = c.def;
		if (kapad_apply_config(k, err, sizeof(err)) != 0)
			kapad_log(LOG_ERR, "reload: %s; the rule set in force stays", err);
		else
			kapad_log(LOG_INFO, "reloaded %s", k->config_path);
	}
	sd_notify(0, "READY=1");
}

static void
signals(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(s->k);
		else
			s->stop = 1;
	}
}

void
kapad_block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the loop ----------------------------------------------------------------------- */

int
kapad_serve(struct kapad *k, char *err, size_t errlen)
{
	struct epoll_event ev, evs[32];
	struct server s = { .k = k, .ep = -1, .lfd = -1, .sfd = -1 };
	sigset_t mask;
	int i, n, waiting;

	kapad_block_signals(&mask);
	s.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.sfd < 0 || s.ep < 0) {
		snprintf(err, errlen, "epoll/signalfd: %s", strerror(errno));
		goto out;
	}
	s.lfd = listen_socket(k, err, errlen);
	if (s.lfd < 0)
		goto out;
	ev.events = EPOLLIN;
	ev.data.ptr = &s.lfd;
	epoll_ctl(s.ep, EPOLL_CTL_ADD, s.lfd, &ev);
	ev.data.ptr = &s.sfd;
	epoll_ctl(s.ep, EPOLL_CTL_ADD, s.sfd, &ev);
	kapad_log(LOG_INFO, "serving %s (maps under %s)", k->conf.socket, k->maps.root);
	sd_notify(0, "READY=1");

	while (!s.stop) {
		/* Requests that wait for the data plane are polled every ms. */
		for (i = 0, waiting = 0; i < CLIENTS_MAX; i++)
			waiting |= s.clients[i] != NULL && s.clients[i]->waiting;
		n = epoll_wait(s.ep, evs, 32, waiting ? 1 : 1000);
		for (i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			int j, rc = 0;

			if (evs[i].data.ptr == &s.lfd) {
				accept_clients(&s);
				continue;
			}
			if (evs[i].data.ptr == &s.sfd) {
				signals(&s);
				continue;
			}
			if (evs[i].events & EPOLLOUT)
				rc = client_flush(&s, c);
			if (rc == 0 && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				rc = client_read(&s, c);
			if (rc != 0) {
				for (j = 0; j < CLIENTS_MAX && s.clients[j] != c; j++)
					;
				if (j < CLIENTS_MAX)
					client_close(&s, j);
			}
		}
		for (i = 0; i < CLIENTS_MAX; i++) {
			struct client *c = s.clients[i];
			json_t *resp;

			if (c == NULL || !c->waiting)
				continue;
			resp = kapad_pending_poll(k, &c->pending, kapa_now_ns());
			if (resp == NULL)
				continue;
			c->waiting = 0;
			if (client_send(&s, c, resp) != 0 || client_process(&s, c) != 0)
				client_close(&s, i);
		}
	}
	sd_notify(0, "STOPPING=1");
	kapad_log(LOG_INFO, "stopping");
out:
	for (i = 0; i < CLIENTS_MAX; i++)
		if (s.clients[i] != NULL)
			client_close(&s, i);
	if (s.lfd >= 0) {
		close(s.lfd);
		unlink(k->conf.socket);
	}
	if (s.sfd >= 0)
		close(s.sfd);
	if (s.ep >= 0)
		close(s.ep);
	return s.stop ? 0 : -1;
}
