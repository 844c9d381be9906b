/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa-xdp: kapa's XDP program on the two interfaces of a bridge, for
 * operators and tests (docs/xdp.md). A command table, as bpftool's; the
 * work is in xdp.c, which kapa-dp calls too.
 *
 *   kapa-xdp attach A B [--ports LIST] [--replace]   fail open while kapa-dp is not running
 *   kapa-xdp setup  A B [--ports LIST]               after kapa-dp (net_af_xdp) started
 *   kapa-xdp detach IFACE... [--force]               before kapa-dp starts
 *   kapa-xdp show   IFACE... [--json]                configuration and counters
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_http.h"
#include "xdp.h"

_Static_assert(KAPA_HTTP_PORT_WORDS == KAPA_XDP_PORT_WORDS,
	       "kapa-dp's --ports bitmap and the XDP program's must be one layout");

struct tool_opts {
	uint64_t ports[KAPA_XDP_PORT_WORDS];
	int have_ports;
	int replace;
	int force;
	int json;
};

struct tool_cmd {
	const char *name;
	int (*handler)(struct tool_opts *o, int argc, char **argv);
	int min_args;
	int max_args;		/* 0 = any number */
	const char *usage;
};

static int
tool_ifindex(const char *name, unsigned int *idx)
{
	*idx = if_nametoindex(name);
	if (*idx == 0) {
		fprintf(stderr, "kapa-xdp: no interface '%s'\n", name);
		return -ENODEV;
	}
	return 0;
}

/* Each of the pair with the other as its peer, through @p fn. */
static int
tool_pair(struct tool_opts *o, char **argv,
	  int (*fn)(const struct dp_xdp_params *p, struct tool_opts *o, char *err, size_t len))
{
	struct dp_xdp_params p[2];
	unsigned int a, b;
	char err[512];
	int i, rc;

	if (tool_ifindex(argv[0], &a) != 0 || tool_ifindex(argv[1], &b) != 0)
		return 1;
	memset(p, 0, sizeof(p));
	p[0].if_index = a;
	p[0].peer_if_index = b;
	p[1].if_index = b;
	p[1].peer_if_index = a;
	for (i = 0; i < 2; i++) {
		p[i].ports = o->have_ports ? o->ports : NULL;
		rc = fn(&p[i], o, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "kapa-xdp: %s\n", err);
			return 1;
		}
		printf("kapa-xdp: %s -> %s: %s\n", argv[i], argv[1 - i],
		       o->have_ports ? "inspected ports to the socket, the rest to the peer" :
		       "all TCP to the socket, the rest to the peer");
	}
	return 0;
}

static int
tool_do_attach(const struct dp_xdp_params *p, struct tool_opts *o, char *err, size_t len)
{
	return dp_xdp_attach(p, o->replace, err, len);
}

static int
tool_do_setup(const struct dp_xdp_params *p, struct tool_opts *o, char *err, size_t len)
{
	(void)o;
	return dp_xdp_setup(p, err, len);
}

static int
cmd_attach(struct tool_opts *o, int argc, char **argv)
{
	(void)argc;
	return tool_pair(o, argv, tool_do_attach);
}

static int
cmd_setup(struct tool_opts *o, int argc, char **argv)
{
	(void)argc;
	return tool_pair(o, argv, tool_do_setup);
}

static int
cmd_detach(struct tool_opts *o, int argc, char **argv)
{
	unsigned int idx;
	char err[512];
	int i, fail = 0;

	for (i = 0; i < argc; i++) {
		if (tool_ifindex(argv[i], &idx) != 0) {
			fail = 1;
			continue;
		}
		if (dp_xdp_detach(idx, o->force, err, sizeof(err)) != 0) {
			fprintf(stderr, "kapa-xdp: %s\n", err);
			fail = 1;
			continue;
		}
		printf("kapa-xdp: %s: detached\n", argv[i]);
	}
	return fail;
}

static void
show_text(const char *ifn, const struct dp_xdp_state *st)
{
	const struct kapa_xdp_cfg *c = &st->cfg;
	char peer[IF_NAMESIZE];

	if (c->peer_ifindex == 0 || if_indextoname(c->peer_ifindex, peer) == NULL)
		snprintf(peer, sizeof(peer), c->peer_ifindex ? "#%u" : "none", c->peer_ifindex);
	printf("%s: program %u (%s), %s, peer %s, ", ifn, st->prog_id, st->prog_name,
	       c->flags & KAPA_XDP_F_CONFIGURED ? "configured" :
	       "not configured (everything to the socket)", peer);
	if (c->flags & KAPA_XDP_F_ALL_TCP)
		printf("all TCP inspected\n");
	else
		printf("%u ports inspected\n", c->ports_count);
#define SHOW_TEXT(field, name, help) printf("%s %llu\n", name, (unsigned long long)st->stats.field);
	KAPA_XDP_COUNTERS(SHOW_TEXT)
#undef SHOW_TEXT
}

static void
show_json(const char *ifn, const struct dp_xdp_state *st, int first)
{
	const struct kapa_xdp_cfg *c = &st->cfg;

	printf("%s{\"iface\":\"%s\",\"prog_id\":%u,\"prog_name\":\"%s\",\"configured\":%s,"
	       "\"all_tcp\":%s,\"peer_ifindex\":%u,\"ports_count\":%u,\"counters\":{",
	       first ? "" : ",", ifn, st->prog_id, st->prog_name,
	       c->flags & KAPA_XDP_F_CONFIGURED ? "true" : "false",
	       c->flags & KAPA_XDP_F_ALL_TCP ? "true" : "false", c->peer_ifindex, c->ports_count);
#define SHOW_JSON(field, name, help) \
	printf("%s\"%s\":%llu", strcmp(name, "to_socket") ? "," : "", name, \
	       (unsigned long long)st->stats.field);
	KAPA_XDP_COUNTERS(SHOW_JSON)
#undef SHOW_JSON
	printf("}}");
}

static int
cmd_show(struct tool_opts *o, int argc, char **argv)
{
	struct dp_xdp_state st;
	unsigned int idx;
	char err[512];
	int i, fail = 0, shown = 0;

	if (o->json)
		printf("[");
	for (i = 0; i < argc; i++) {
		if (tool_ifindex(argv[i], &idx) != 0) {
			fail = 1;
			continue;
		}
		if (dp_xdp_read(idx, &st, err, sizeof(err)) != 0) {
			if (o->json)
				printf("%s{\"iface\":\"%s\",\"error\":\"%s\"}", shown ? "," : "",
				       argv[i], err);
			else
				fprintf(stderr, "kapa-xdp: %s\n", err);
			fail = 1;
			shown++;
			continue;
		}
		if (o->json)
			show_json(argv[i], &st, shown == 0);
		else
			show_text(argv[i], &st);
		shown++;
	}
	if (o->json)
		printf("]\n");
	return fail;
}

static int cmd_help(struct tool_opts *o, int argc, char **argv);

static const struct tool_cmd tool_cmds[] = {
	{ "attach", cmd_attach, 2, 2, "attach A B [--ports LIST] [--replace]\n"
	  "\tload kapa's XDP program on A and on B, each with the other as peer\n"
	  "\t(kept and set up again where it is already there): fail open while\n"
	  "\tkapa-dp is not running" },
	{ "setup", cmd_setup, 2, 2, "setup A B [--ports LIST]\n"
	  "\tfill the maps of the program kapa-dp's net_af_xdp ports loaded\n"
	  "\t(xdp_prog=kapa_xdp.bpf.o) on A and on B: peer and inspected ports" },
	{ "detach", cmd_detach, 1, 0, "detach IFACE... [--force]\n"
	  "\tremove kapa's XDP program (any with --force), before kapa-dp starts" },
	{ "show", cmd_show, 1, 0, "show IFACE... [--json]\n"
	  "\tthe program's configuration and counters" },
	{ "help", cmd_help, 0, 0, "help\n\tthis text" },
};

static void
tool_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: kapa-xdp COMMAND ...\n\n");
	for (i = 0; i < sizeof(tool_cmds) / sizeof(tool_cmds[0]); i++)
		fprintf(f, "  kapa-xdp %s\n", tool_cmds[i].usage);
	fprintf(f, "\n--ports LIST: the inspected TCP ports, as kapa-dp's --ports "
		"(80,8000-8099);\nwithout it every TCP segment goes to kapa-dp.\n");
}

static int
cmd_help(struct tool_opts *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	tool_usage(stdout);
	return 0;
}

static const struct tool_cmd *
tool_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tool_cmds) / sizeof(tool_cmds[0]); i++)
		if (strcmp(tool_cmds[i].name, name) == 0)
			return &tool_cmds[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "replace", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct tool_opts o;
	const struct tool_cmd *cmd;
	int c, nargs;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			tool_usage(stdout);
			return 0;
		}
		tool_usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		tool_usage(stderr);
		return 2;
	}
	cmd = tool_find(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, "kapa-xdp: unknown command '%s'\n", argv[optind]);
		tool_usage(stderr);
		return 2;
	}
	/* The command's own options, anywhere after it: parse from the
	 * command on (as argv[0]), getopt restarted (optind 0). */
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (kapa_http_parse_ports(optarg, o.ports) != 0) {
				fprintf(stderr, "kapa-xdp: --ports '%s': expected ports or ranges "
					"in 1..65535 (80,8000-8099)\n", optarg);
				return 2;
			}
			o.have_ports = 1;
			break;
		case 'r':
			o.replace = 1;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			tool_usage(stdout);
			return 0;
		default:
			tool_usage(stderr);
			return 2;
		}
	}
	nargs = argc - optind;
	if (nargs < cmd->min_args || (cmd->max_args != 0 && nargs > cmd->max_args)) {
		fprintf(stderr, "usage: kapa-xdp %s\n", cmd->usage);
		return 2;
	}
	return cmd->handler(&o, nargs, argv + optind);
}
