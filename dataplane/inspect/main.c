/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa-inspect: the kapa core over capture files. Options and start-up only;
 * the run is in inspect.c.
 *
 * Exit status: 0 all files read; 1 usage or start-up error; 2 some file could
 * not be read (not a capture, unsupported link type) or ended in a read error
 * (truncated: what was read before it is still printed).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "eal_start.h"
#include "inspect.h"
#include "kapa_args.h"
#include "kapa_eal.h"
#include "kapa_http.h"
#include "kapa_policy.h"
#include "report.h"

#define EXIT_USAGE 1
#define EXIT_FILE 2

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [--json] [--max-conns N] [--ports LIST]\n"
		"       [--policy SPEC] [--rule PREFIX[:PORT]=SPEC ...] [-w OUT.pcap]\n"
		"       [--verify-checksums] FILE...\n"
		"Run kapa's core (TCP reassembly, HTTP/1.x keep-alive tracking, and with a\n"
		"policy its actions) over pcap or pcapng captures.\n"
		"\n"
		"  --json         one JSON object per HTTP message, in capture order of\n"
		"                 the message's first byte (default: a report); with a\n"
		"                 policy also one per action (\"action\", \"reason\")\n"
		"  --max-conns N  connections tracked at once, at most (default %u, from\n"
		"                 this machine's memory, or fewer: what the largest\n"
		"                 FILE's size can hold); the table grows to what the\n"
		"                 capture needs, about 0.6 KiB per connection open at\n"
		"                 once. Past the limit connections lose their state\n"
		"                 (told on stderr)\n"
		"  --ports LIST   track HTTP only on connections with a port in LIST\n"
		"                 (e.g. 80,8000-8099; default: every port, by content)\n"
		"  --policy SPEC  act as kapa-dp would, with capture time as the clock;\n"
		"                 SPEC is the default for servers no rule matches:\n"
		"                 timeout=S,max=N,stall=S,opaque_idle=S,\n"
		"                 mode=observe|enforce|advertise (0 = no limit)\n"
		"  --rule PREFIX[:PORT]=SPEC\n"
		"                 a rule for servers in PREFIX (e.g. 198.18.0.0/15:80,\n"
		"                 [2001:db8::/32]:443); the most specific match wins\n"
		"  -w, --write OUT.pcap\n"
		"                 write what kapa-dp would send (every forwarded frame,\n"
		"                 edited or not, and every crafted one, at the time it\n"
		"                 would send it), in the capture's link type; one FILE\n"
		"  --verify-checksums\n"
		"                 ignore TCP segments whose checksum (or IPv4 header\n"
		"                 checksum) is wrong, as the receiver would (forwarded,\n"
		"                 not used, counted); off by default: captures taken\n"
		"                 on the sending host hold checksums its NIC was to fill\n"
		"  -h, --help     this text\n"
		"\n"
		"Exit status: 0 ok; 1 usage; 2 a file was unreadable or truncated\n"
		"(a truncated file's messages up to the cut are still printed).\n",
		prog, inspect_default_max_conns(0, NULL));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "ports", required_argument, NULL, 'p' },
		{ "policy", required_argument, NULL, 'P' },
		{ "rule", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "verify-checksums", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_opts o = {
		.out = stdout,
	};
	static uint64_t ports[KAPA_HTTP_PORT_WORDS];
	static struct kapa_policy_args pa;
	struct kapa_policy *policy = NULL;
	char err[1024];
	int status = 0, opt, rc, i;

	kapa_policy_args_init(&pa);
	while ((opt = getopt_long(argc, argv, "hw:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			o.json = 1;
			break;
		case 'c':
			o.max_conns_given = 1;
			if (kapa_arg_u32(optarg, 1, UINT32_MAX / 2, &o.max_conns) != 0) {
				fprintf(stderr, "%s: --max-conns '%s': expected a positive number\n",
					argv[0], optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (kapa_http_parse_ports(optarg, ports) != 0) {
				fprintf(stderr, "%s: --ports '%s': expected ports or ranges "
					"1-65535, comma-separated (e.g. 80,8000-8099)\n",
					argv[0], optarg);
				return EXIT_USAGE;
			}
			o.ports = ports;
			break;
		case 'P':
			if (kapa_policy_args_default(&pa, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s: --policy: %s\n", argv[0], err);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			if (kapa_policy_args_rule(&pa, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s: --rule: %s\n", argv[0], err);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			o.write_path = optarg;
			break;
		case 'k':
			o.verify_csum = 1;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no capture file given\n", argv[0]);
		usage(stderr, argv[0]);
		return EXIT_USAGE;
	}
	if (!o.max_conns_given)
		o.max_conns = inspect_default_max_conns(argc - optind, argv + optind);
	o.with_file = argc - optind > 1;
	if (o.write_path != NULL && o.with_file) {
		fprintf(stderr, "%s: -w writes one capture: give one FILE\n", argv[0]);
		return EXIT_USAGE;
	}
	if (pa.given) {
		policy = kapa_policy_args_create(&pa, err, sizeof(err));
		if (policy == NULL) {
			fprintf(stderr, "%s: --rule: %s\n", argv[0], err);
			return EXIT_USAGE;
		}
		o.policy = policy;
	}
	/* Several captures without --json: a total after the per-file reports. */
	if (o.with_file && !o.json) {
		o.total = calloc(1, sizeof(*o.total));
		if (o.total == NULL) {
			fprintf(stderr, "%s: out of memory\n", argv[0]);
			return EXIT_USAGE;
		}
	}

	/* EAL logs to stdout by default; keep stdout for the output. */
	rte_openlog_stream(stderr);
	rc = inspect_eal_start("kapa-inspect", inspect_mem_mb(o.max_conns));
	if (rc != 0) {
		fprintf(stderr, "%s: cannot start DPDK EAL (%s) with %u MiB for %u connections; "
			"try a smaller --max-conns\n", argv[0], strerror(-rc),
			inspect_mem_mb(o.max_conns), o.max_conns);
		return EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		enum inspect_result r = inspect_file(&o, argv[i], err, sizeof(err));

		if (r == INSPECT_OK)
			continue;
		fprintf(stderr, "kapa-inspect: %s\n", err);
		if (r == INSPECT_FAILED) {
			status = EXIT_USAGE;
			break;
		}
		status = EXIT_FILE;
	}
	if (o.total != NULL && o.total->captures > 1) {
		char title[64];

		snprintf(title, sizeof(title), "all %" PRIu32 " captures", o.total->captures);
		report_print(o.total, o.out, title);
	}
	free(o.total);
	kapa_policy_destroy(policy);
	fflush(stdout);
	kapa_eal_cleanup();
	return status;
}
