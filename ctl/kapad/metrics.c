/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics for Prometheus, served with libmicrohttpd from its own
 * thread: the `stats` result per worker (kapad_stats()) in the text format
 * (ctl/common/kapa_prom.c, names and help texts from the counter table). It
 * reads the maps' memory only, so it needs no lock against the control loop.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "commands.h"
#include "kapa_prom.h"

struct kapad_metrics {
	struct MHD_Daemon *mhd;
	struct kapad *k;
};

/* The `stats` result, per worker, as Prometheus text (the same writer as
 * kapactl stats --prometheus). */
static char *
render(struct kapad *k, size_t *len)
{
	json_t *stats = kapad_stats(k, 1);
	char *buf = NULL;
	FILE *f;

	if (stats == NULL)
		return NULL;
	f = open_memstream(&buf, len);
	if (f != NULL) {
		kapa_prom_write(f, stats);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	json_decref(stats);
	return buf;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_len, void **state)
{
	struct kapad_metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		body = strdup("only GET /metrics\n");
		len = body ? strlen(body) : 0;
	} else if (strcmp(url, "/metrics") != 0) {
		status = MHD_HTTP_NOT_FOUND;
		body = strdup("kapad serves /metrics only\n");
		len = body ? strlen(body) : 0;
	} else {
		body = render(m->k, &len);
	}
	if (body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", status == MHD_HTTP_OK ?
				"text/plain; version=0.0.4; charset=utf-8" : "text/plain");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

struct kapad_metrics *
kapad_metrics_start(struct kapad *k, const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct kapad_metrics *m;
	struct addrinfo *ai = NULL;
	char host[128];
	const char *port;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rc;

	/* ADDR:PORT, [V6ADDR]:PORT */
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			goto bad;
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(addr, ':');

		if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
			goto bad;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port = colon + 1;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "metrics address '%s': %s", addr, gai_strerror(rc));
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->k = k;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, answer, m,
				  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				  MHD_OPTION_CONNECTION_LIMIT, 16u,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	freeaddrinfo(ai);
	if (m->mhd == NULL) {
		snprintf(err, errlen, "cannot serve metrics on %s (address in use, or not one of "
			 "this host's?)", addr);
		free(m);
		return NULL;
	}
	return m;
bad:
	snprintf(err, errlen, "metrics address '%s': expected ADDR:PORT or [V6ADDR]:PORT", addr);
	return NULL;
}

void
kapad_metrics_stop(struct kapad_metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
