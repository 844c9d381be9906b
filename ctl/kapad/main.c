/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapad: the control daemon. Start-up and shutdown; the socket is server.c,
 * the commands commands.c.
 *
 *   options, config file -> the map root's lock (one kapad each, lock.c)
 *   -> the maps (created or reused, ctl/common) -> the rule set that
 *   survived in them, the config's policy over it -> metrics -> serve until
 *   SIGTERM (SIGHUP reloads the config).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "kapa_publish.h"
#include "kapad.h"
#include "server.h"

#define EXIT_USAGE 2

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: kapad [-c FILE] [-s SOCKET] [--map-root DIR] [--metrics ADDR:PORT]\n"
		"             [--group NAME] [--syslog]\n"
		"\n"
		"kapa's control daemon: creates or reuses the pinned maps, keeps the policy\n"
		"rule set and program the data plane (kapa-dp) runs, and serves the control\n"
		"socket that kapactl talks to (docs/control-protocol.md). With no options and\n"
		"no file it runs on built-in defaults.\n"
		"\n"
		"  -c, --config FILE    INI file: [kapad] socket, group, map_root, metrics,\n"
		"                       log, max_conns; [defaults] and [rule NAME] sections\n"
		"                       (match = PREFIX[:PORT] and timeout, max, stall,\n"
		"                       opaque_idle, mode); read again on SIGHUP\n"
		"  -s, --socket PATH    control socket (default %s)\n"
		"      --map-root DIR   pinned maps (default %s)\n"
		"      --metrics ADDR:PORT\n"
		"                       serve Prometheus metrics on GET /metrics\n"
		"      --group NAME     serve this group's members besides root\n"
		"      --syslog         log to syslog instead of stderr\n"
		"  -h, --help           this text\n"
		"\n"
		"The options override the file. Rules added with kapactl stay in the maps\n"
		"across restarts; the file's rules are added or replaced by name at start and\n"
		"on SIGHUP, and those removed from the file are deleted on SIGHUP. A rule set\n"
		"is published only when it differs from the one in force.\n",
		KAPAD_SOCKET, KAPA_MAP_ROOT);
}

/* Options over the config file's values. @return 0, 1 (--help), -1 (usage),
 * -2 (the config file; said). */
static int
parse_opts(int argc, char **argv, struct kapad *k)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "map-root", required_argument, NULL, 'm' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "group", required_argument, NULL, 'g' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct {
		const char *socket, *map_root, *metrics, *group;
		int use_syslog;
	} over = { 0 };
	char err[512];
	int opt;

	while ((opt = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			k->config_path = optarg;
			break;
		case 's':
			over.socket = optarg;
			break;
		case 'm':
			over.map_root = optarg;
			break;
		case 'M':
			over.metrics = optarg;
			break;
		case 'g':
			over.group = optarg;
			break;
		case 'S':
			over.use_syslog = 1;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kapad: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (k->config_path != NULL &&
	    kapad_config_load(&k->conf, k->config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "kapad: %s\n", err);
		return -2;	/* the file, not the usage */
	}
#define OVERRIDE(field) \
	if (over.field != NULL) \
		snprintf(k->conf.field, sizeof(k->conf.field), "%s", over.field)
	OVERRIDE(socket);
	OVERRIDE(map_root);
	OVERRIDE(metrics);
	OVERRIDE(group);
#undef OVERRIDE
	if (over.use_syslog)
		k->conf.use_syslog = 1;
	return 0;
}

/* The rule set that survived in the maps (kapactl's changes), then the
 * config file's policy over it. */
static int
take_policy(struct kapad *k)
{
	char err[512];
	int n;

	n = kapa_published_rules(&k->maps, &k->def, k->rules, &k->rules_gen, err, sizeof(err));
	if (n < 0) {
		kapad_log(LOG_ERR, "the published rule set cannot be read: %s", err);
		return -1;
	}
	k->nrules = (uint32_t)n;
	if (k->rules_gen != 0)
		kapad_log(LOG_INFO, "rule set %llu found in the maps: %d rule(s)",
			  (unsigned long long)k->rules_gen, n);
	else
		k->def.mode = KAPA_MODE_OBSERVE;
	if (kapad_apply_config(k, err, sizeof(err)) != 0) {
		kapad_log(LOG_ERR, "%s: %s", k->config_path, err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct kapad k;
	struct kapa_mapset_conf mc = { 0 };
	struct group *gr;
	sigset_t signals;
	char err[512];
	int rc, lock_fd, status = EXIT_FAILURE;

	k.conf.rules = malloc(KAPA_MAX_RULES * sizeof(*k.conf.rules));
	k.rules = malloc(KAPA_MAX_RULES * sizeof(*k.rules));
	if (k.conf.rules == NULL || k.rules == NULL) {
		fprintf(stderr, "kapad: out of memory\n");
		return EXIT_FAILURE;
	}
	kapad_config_defaults(&k.conf);
	rc = parse_opts(argc, argv, &k);
	if (rc != 0) {
		if (rc != -2)
			usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	kapad_log_open(k.conf.use_syslog);
	kapad_block_signals(&signals);
	k.started_ns = kapa_now_ns();
	k.group_gid = (gid_t)-1;
	if (k.conf.group[0] != '\0') {
		gr = getgrnam(k.conf.group);
		if (gr == NULL) {
			kapad_log(LOG_ERR, "group '%s' does not exist", k.conf.group);
			return EXIT_FAILURE;
		}
		k.group_gid = gr->gr_gid;
	}
	/* One kapad per map root (lock.c): before the maps are touched. Held
	 * until exit (the fd stays open). */
	lock_fd = kapad_lock_map_root(KAPAD_LOCK_DIR, k.conf.map_root, err, sizeof(err));
	if (lock_fd < 0) {
		kapad_log(LOG_ERR, "%s", err);
		return EXIT_FAILURE;
	}
	mc.root = k.conf.map_root;
	mc.max_conns = k.conf.max_conns;
	if (kapa_mapset_open(&k.maps, &mc, err, sizeof(err)) != 0) {
		kapad_log(LOG_ERR, "maps: %s", err);
		return EXIT_FAILURE;
	}
	kapad_log(LOG_INFO, "maps under %s %s", k.maps.root, k.maps.created ? "created" : "reused");
	if (take_policy(&k) != 0)
		goto out;
	if (k.conf.metrics[0] != '\0') {
		k.metrics = kapad_metrics_start(&k, k.conf.metrics, err, sizeof(err));
		if (k.metrics == NULL) {
			kapad_log(LOG_ERR, "%s", err);
			goto out;
		}
		kapad_log(LOG_INFO, "metrics on http://%s/metrics", k.conf.metrics);
	}
	err[0] = '\0';
	if (kapad_serve(&k, err, sizeof(err)) != 0) {
		kapad_log(LOG_ERR, "%s", err);
		goto out;
	}
	status = 0;
out:
	kapad_metrics_stop(k.metrics);
	kapa_mapset_close(&k.maps);
	free(k.conf.rules);
	free(k.rules);
	close(lock_fd);
	return status;
}
