/* SPDX-License-Identifier: BSD-3-Clause */
/* The client side of kapad's control socket: newline-delimited JSON over a
 * Unix stream socket, every wait bounded by a deadline, every line by size. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kapa_client.h"

/* The response buffer grows by at least this much, so that a large
 * response takes few reads and few reallocations. */
#define CLIENT_READ_CHUNK (64u * 1024)

struct kapa_client {
	int fd;
	char *buf;	/* received bytes not yet returned as a response */
	size_t len;	/* bytes in buf */
	size_t cap;	/* room in buf, at most KAPA_CLIENT_RESPONSE_MAX + 1 */
	size_t scanned;	/* buf[0, scanned) holds no newline */
};

/* Deadlines are CLOCK_MONOTONIC milliseconds; INT64_MAX is "never". */
static int64_t
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
client_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? INT64_MAX : client_now_ms() + timeout_ms;
}

/* Wait until @p fd is ready for @p events or @p deadline passes.
 * @return 0 when ready, -ETIMEDOUT, or -errno of poll. */
static int
client_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		if (deadline == INT64_MAX) {
			left = -1;
		} else {
			left = deadline - client_now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
		}
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;	/* ready, or an error/hang-up the next call reports */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* What to do about a failed connect, after the system's reason. */
static const char *
client_connect_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is kapad running?)";
	case EACCES:
	case EPERM:
		/* kapad has no default group: root only unless its config says
		 * group = NAME (docs/operations.md). */
		return " (kapad serves root and the members of its group: run as root or as a "
		       "member of the group named by group = in kapad's config)";
	default:
		return "";
	}
}

struct kapa_client *
kapa_client_attach(int fd)
{
	struct kapa_client *c;
	int flags;

	/* Non-blocking: every wait is a poll() with the time that is left. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fd = fd;
	return c;
}

struct kapa_client *
kapa_client_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 0 };
	struct kapa_client *c;
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "cannot connect to %s: the path is longer than a socket "
			 "address holds (%zu bytes)", path, sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create a socket: %s", strerror(e));
		errno = e;
		return NULL;
	}
	/* A Unix-socket connect waits while the listener's backlog is full, up
	 * to the send timeout; then it fails with EAGAIN. */
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		if (e == EAGAIN || e == EINPROGRESS) {
			e = ETIMEDOUT;
			snprintf(err, errlen, "cannot connect to %s: kapad did not accept the "
				 "connection within %d ms (busy or hung?)", path, timeout_ms);
		} else {
			snprintf(err, errlen, "cannot connect to %s: %s%s", path, strerror(e),
				 client_connect_hint(e));
		}
		close(fd);
		errno = e;
		return NULL;
	}
	tv.tv_sec = tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = kapa_client_attach(fd);
	if (c == NULL) {
		e = errno;
		snprintf(err, errlen, "cannot set up the connection to %s: %s", path, strerror(e));
		close(fd);
		errno = e;
	}
	return c;
}

static int
client_send(struct kapa_client *c, const json_t *req, int64_t deadline, char *err, size_t errlen)
{
	size_t len, off = 0;
	char *line, *grown;
	ssize_t n;
	int rc = 0;

	line = json_dumps(req, JSON_COMPACT);	/* compact: no newline inside */
	if (line == NULL) {
		snprintf(err, errlen, "cannot encode the request (out of memory?)");
		return -ENOMEM;
	}
	len = strlen(line);
	if (len > KAPA_CLIENT_REQUEST_MAX) {
		snprintf(err, errlen, "request of %zu bytes exceeds the control protocol's "
			 "limit of %u bytes", len, KAPA_CLIENT_REQUEST_MAX);
		free(line);
		return -E2BIG;
	}
	grown = realloc(line, len + 2);
	if (grown == NULL) {
		free(line);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	line = grown;
	line[len++] = '\n';
	line[len] = '\0';
	while (off < len) {
		/* MSG_NOSIGNAL: a kapad that went away is an error, not SIGPIPE. */
		n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			rc = -errno;
			snprintf(err, errlen, "cannot send the request to kapad: %s", strerror(errno));
			break;
		}
		rc = client_wait(c->fd, POLLOUT, deadline);
		if (rc == -ETIMEDOUT) {
			snprintf(err, errlen, "kapad did not take the request in time");
			break;
		}
		if (rc != 0) {
			snprintf(err, errlen, "cannot send the request to kapad: %s", strerror(-rc));
			break;
		}
	}
	free(line);
	return rc;
}

int
kapa_client_send(struct kapa_client *c, const json_t *req, int timeout_ms, char *err,
		 size_t errlen)
{
	return client_send(c, req, client_deadline(timeout_ms), err, errlen);
}

/* Make room for the next read: at least CLIENT_READ_CHUNK, never past one
 * byte over the response limit (the byte that proves a line too long). */
static int
client_grow(struct kapa_client *c)
{
	const size_t ceiling = (size_t)KAPA_CLIENT_RESPONSE_MAX + 1;
	size_t cap;
	char *buf;

	if (c->cap - c->len >= CLIENT_READ_CHUNK || c->cap == ceiling)
		return 0;
	cap = c->cap < CLIENT_READ_CHUNK ? CLIENT_READ_CHUNK : c->cap * 2;
	if (cap > ceiling)
		cap = ceiling;
	buf = realloc(c->buf, cap);
	if (buf == NULL)
		return -ENOMEM;
	c->buf = buf;
	c->cap = cap;
	return 0;
}

/* Parse the line buf[0, n) and drop it and its newline from the buffer. */
static int
client_take_line(struct kapa_client *c, size_t n, json_t **resp, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;
	int rc = 0;

	j = json_loadb(c->buf, n, 0, &jerr);
	if (j == NULL) {
		snprintf(err, errlen, "kapad's response is not JSON: %s (column %d)", jerr.text,
			 jerr.column);
		rc = -EPROTO;
	} else if (!json_is_object(j)) {
		snprintf(err, errlen, "kapad's response is not a JSON object");
		json_decref(j);
		j = NULL;
		rc = -EPROTO;
	}
	memmove(c->buf, c->buf + n + 1, c->len - n - 1);
	c->len -= n + 1;
	c->scanned = 0;
	*resp = j;
	return rc;
}

static int
client_recv(struct kapa_client *c, int64_t deadline, json_t **resp, char *err, size_t errlen)
{
	char *nl;
	ssize_t n;
	int rc;

	*resp = NULL;
	for (;;) {
		nl = c->len > c->scanned ? memchr(c->buf + c->scanned, '\n', c->len - c->scanned) : NULL;
		if (nl != NULL && (size_t)(nl - c->buf) <= KAPA_CLIENT_RESPONSE_MAX)
			return client_take_line(c, (size_t)(nl - c->buf), resp, err, errlen);
		if (nl != NULL || c->len > KAPA_CLIENT_RESPONSE_MAX) {
			snprintf(err, errlen, "kapad's response exceeds %u MiB: refused",
				 KAPA_CLIENT_RESPONSE_MAX >> 20);
			return -E2BIG;
		}
		c->scanned = c->len;
		if (client_grow(c) != 0) {
			snprintf(err, errlen, "out of memory for kapad's response");
			return -ENOMEM;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0) {
			snprintf(err, errlen, c->len == 0 ?
				 "kapad closed the connection without answering" :
				 "kapad closed the connection in the middle of its response");
			return -ECONNRESET;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			rc = -errno;
			snprintf(err, errlen, "cannot read kapad's response: %s", strerror(errno));
			return rc;
		}
		rc = client_wait(c->fd, POLLIN, deadline);
		if (rc == -ETIMEDOUT)
			snprintf(err, errlen, "kapad did not answer in time");
		else if (rc != 0)
			snprintf(err, errlen, "cannot read kapad's response: %s", strerror(-rc));
		if (rc != 0)
			return rc;
	}
}

int
kapa_client_recv(struct kapa_client *c, int timeout_ms, json_t **resp, char *err, size_t errlen)
{
	return client_recv(c, client_deadline(timeout_ms), resp, err, errlen);
}

int
kapa_client_call(struct kapa_client *c, const json_t *req, int timeout_ms, json_t **resp,
		 char *err, size_t errlen)
{
	int64_t deadline = client_deadline(timeout_ms);
	json_t *want, *got;
	int rc;

	*resp = NULL;
	rc = client_send(c, req, deadline, err, errlen);
	if (rc != 0)
		return rc;
	rc = client_recv(c, deadline, resp, err, errlen);
	if (rc != 0)
		return rc;
	/* A response without an id is kapad's answer to the connection itself
	 * (a client it does not serve), not to another request. */
	want = json_object_get(req, "id");
	got = json_object_get(*resp, "id");
	if (want != NULL && got != NULL && !json_equal(want, got)) {
		snprintf(err, errlen, "kapad answered another request than the one sent");
		json_decref(*resp);
		*resp = NULL;
		return -EPROTO;
	}
	return 0;
}

int
kapa_client_result(const json_t *resp, const json_t **result, const char **code, char *err,
		   size_t errlen)
{
	const json_t *ok = json_object_get(resp, "ok");
	const char *msg;

	*result = NULL;
	*code = "EPROTO";
	if (!json_is_boolean(ok)) {
		snprintf(err, errlen, "kapad's response has no \"ok\"");
		return -EPROTO;
	}
	if (json_is_true(ok)) {
		*result = json_object_get(resp, "result");
		if (*result != NULL && !json_is_object(*result)) {
			*result = NULL;
			snprintf(err, errlen, "kapad's result is not a JSON object");
			return -EPROTO;
		}
		*code = NULL;
		return 0;
	}
	msg = json_string_value(json_object_get(resp, "error"));
	*code = json_string_value(json_object_get(resp, "code"));
	if (*code == NULL)
		*code = "EIO";
	snprintf(err, errlen, "%s", msg != NULL ? msg : "kapad refused the command without saying why");
	return 1;
}

void
kapa_client_destroy(struct kapa_client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}
