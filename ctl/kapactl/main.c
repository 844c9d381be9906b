/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapactl: the command line of kapad. Parse the command line into a
 * request, send it over kapad's socket, print the result for people, as
 * JSON (-j) or as Prometheus text (stats --prometheus). Everything it does
 * lives in the command table (commands.c), the renderers (render.c,
 * stats.c; the Prometheus text is ctl/common/kapa_prom.c) and kapa_client;
 * this file only runs them in order and turns failures into messages and
 * exit statuses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapa_client.h"
#include "ctl_commands.h"
#include "ctl_output.h"
#include "kapa_prom.h"

/* Exit statuses (ctl_usage() lists them for users). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_REFUSED 1	/* kapad refused the command, or a local failure */
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_UNREACHABLE 3	/* kapad not reached, or no valid answer in time */

/* errno's name for --json errors ("ENOENT"), as kapad's codes are. */
static const char *
errno_code(int e)
{
	const char *name = strerrorname_np(e);

	return name != NULL ? name : "EIO";
}

/* Send the request, read the response. @return an exit status; *resp set
 * on CTL_EXIT_OK. */
static int
exchange(const struct ctl_cmdline *cl, json_t **resp)
{
	struct kapa_client *c;
	char err[512];
	int rc;

	c = kapa_client_connect(cl->socket, cl->timeout_ms, err, sizeof(err));
	if (c == NULL) {
		ctl_out_error(stderr, cl->json, err, errno_code(errno));
		return CTL_EXIT_UNREACHABLE;
	}
	rc = kapa_client_call(c, cl->req, cl->timeout_ms, resp, err, sizeof(err));
	kapa_client_destroy(c);
	if (rc == -ETIMEDOUT) {
		size_t n = strlen(err);

		snprintf(err + n, sizeof(err) - n, " (waited %.3g s; --timeout S waits longer)",
			 cl->timeout_ms / 1000.0);
	}
	if (rc != 0) {
		ctl_out_error(stderr, cl->json, err, errno_code(-rc));
		return CTL_EXIT_UNREACHABLE;
	}
	return CTL_EXIT_OK;
}

/* Print the result as the command line asked. */
static int
print_result(const struct ctl_cmdline *cl, const json_t *result)
{
	if (cl->json) {
		ctl_out_json(stdout, result);
	} else if (cl->prometheus) {
		if (kapa_prom_write(stdout, result) != 0) {
			ctl_out_error(stderr, 0, "kapad's stats result has no counters", "EPROTO");
			return CTL_EXIT_UNREACHABLE;
		}
	} else {
		cl->cmd->render(stdout, result);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		char err[128];

		snprintf(err, sizeof(err), "cannot write the output: %s", strerror(errno));
		ctl_out_error(stderr, cl->json, err, errno_code(errno));
		return CTL_EXIT_REFUSED;
	}
	return CTL_EXIT_OK;
}

int
main(int argc, char **argv)
{
	const json_t *result;
	struct ctl_cmdline cl;
	json_t *resp = NULL, *empty = NULL;
	const char *code;
	char err[512];
	int rc;

	switch (ctl_cmdline_parse(argc, argv, &cl, err, sizeof(err))) {
	case CTL_CMDLINE_HELP:
		ctl_usage(stdout, cl.object);
		return CTL_EXIT_OK;
	case CTL_CMDLINE_USAGE:
		/* In JSON mode stderr stays one JSON object: `OBJECT help` shows the usage. */
		ctl_out_error(stderr, cl.json, err, "EINVAL");
		if (!cl.json)
			ctl_usage(stderr, cl.object);
		return CTL_EXIT_USAGE;
	case CTL_CMDLINE_FAILED:
		ctl_out_error(stderr, cl.json, err, errno_code(cl.errnum != 0 ? cl.errnum : EINVAL));
		return CTL_EXIT_REFUSED;
	case CTL_CMDLINE_RUN:
		break;
	}
	rc = exchange(&cl, &resp);
	if (rc != CTL_EXIT_OK)
		goto out;
	switch (kapa_client_result(resp, &result, &code, err, sizeof(err))) {
	case 0:
		if (result == NULL)
			result = empty = json_object();
		rc = print_result(&cl, result);
		break;
	case 1:
		ctl_out_error(stderr, cl.json, err, code);
		rc = CTL_EXIT_REFUSED;
		break;
	default:
		ctl_out_error(stderr, cl.json, err, code);
		rc = CTL_EXIT_UNREACHABLE;
		break;
	}
out:
	json_decref(empty);
	json_decref(resp);
	ctl_cmdline_clear(&cl);
	return rc;
}
