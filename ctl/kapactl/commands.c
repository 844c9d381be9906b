/* SPDX-License-Identifier: BSD-3-Clause */
/* kapactl's command table, the requests it builds from a command line, and
 * the help generated from it (bpftool's and HAProxy's CLI tables). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_bpfobj.h"
#include "kapa_client.h"
#include "kapa_policy_ctx.h"
#include "ctl_commands.h"

/* A limit in seconds or requests: 0 = none, at most 2^31 - 1 (the protocol). */
#define CTL_LIMIT_MAX 2147483647ul
/* conns --limit: the protocol's bounds. */
#define CTL_CONNS_LIMIT_MAX 10000ul
/* The most arguments a command has. */
#define CTL_ARGS_MAX 8
/* Help is wrapped to fit this many columns. */
#define CTL_USAGE_WIDTH 79

/* The objects, in the order help lists them. */
static const struct {
	const char *name;
	const char *help;
} ctl_objects[] = {
	{ "status", "kapad, and the data plane it serves" },
	{ "policy", "the rules: which servers' connections get which limits and mode" },
	{ "conns", "the live connections" },
	{ "conn", "one live connection" },
	{ "stats", "the data plane's counters and histograms" },
	{ "program", "the policy program that decides each connection's limits" },
};

/*  name            metavar          key            kind             req  min  max   help */
/* NAME and --match, then the spec's options: policy default takes these
 * (policy_add_args + 2, POLICY_SPEC_ARGS), so they stay last. */
static const struct ctl_arg policy_add_args[] = {
	{ "NAME", NULL, "name", CTL_ARG_STRING, 1, 0, 0, "the rule's name (a new one)" },
	{ "--match", "PREFIX[:PORT]", "match", CTL_ARG_STRING, 1, 0, 0,
	  "the servers it applies to, e.g. 198.18.0.0/15:80 or [2001:db8::/32]:443; "
	  "the most specific match wins" },
	{ "--timeout", "S", "timeout", CTL_ARG_UINT, 0, 0, CTL_LIMIT_MAX,
	  "keep-alive idle limit, seconds (0: none)" },
	{ "--max", "N", "max", CTL_ARG_UINT, 0, 0, CTL_LIMIT_MAX,
	  "requests per connection (0: no limit)" },
	{ "--stall", "S", "stall", CTL_ARG_UINT, 0, 0, CTL_LIMIT_MAX,
	  "longest a request may stay unanswered, seconds (0: none)" },
	{ "--opaque-idle", "S", "opaque_idle", CTL_ARG_UINT, 0, 0, CTL_LIMIT_MAX,
	  "idle limit of connections that are not HTTP/1.x (TLS, h2, upgraded), seconds (0: none)" },
	{ "--mode", "MODE", "mode", CTL_ARG_MODE, 0, 0, 0,
	  "observe (report only; the default), enforce (reset connections at the limits) or "
	  "advertise (enforce, and tell clients the limits in Keep-Alive)" },
	{ NULL },
};
/* The spec's options alone (policy default). */
#define POLICY_SPEC_ARGS (policy_add_args + 2)

static const struct ctl_arg policy_name_args[] = {
	{ "NAME", NULL, "name", CTL_ARG_STRING, 1, 0, 0, "the rule's name" },
	{ NULL },
};

static const struct ctl_arg conns_args[] = {
	{ "--idle-over", "S", "idle_over", CTL_ARG_UINT, 0, 0, CTL_LIMIT_MAX,
	  "only connections idle for at least S seconds" },
	{ "--limit", "N", "limit", CTL_ARG_UINT, 0, 1, CTL_CONNS_LIMIT_MAX,
	  "at most N connections, the longest idle first (default 100, at most 10000)" },
	{ NULL },
};

static const struct ctl_arg conn_close_args[] = {
	{ "ID", NULL, "id", CTL_ARG_CONN_ID, 1, 0, 0,
	  "the connection, W/SLOT/GEN as kapactl conns shows it (a stale one closes nothing)" },
	{ NULL },
};

static const struct ctl_arg stats_args[] = {
	{ "--workers", NULL, "workers", CTL_ARG_FLAG, 0, 0, 0, "each worker's counters too" },
	{ "--prometheus", NULL, NULL, CTL_ARG_PROMETHEUS, 0, 0, 0,
	  "print the Prometheus text format (counters per worker with --workers)" },
	{ NULL },
};

static const struct ctl_arg program_load_args[] = {
	{ "FILE.bpf.o", NULL, NULL, CTL_ARG_PROGRAM, 1, 0, 0,
	  "the program's eBPF object (clang -O2 -target bpf -mcpu=v2); its one function in "
	  "section " KAPA_POLICY_SECTION " is sent, named after the file" },
	{ NULL },
};

static const struct ctl_arg no_args[] = { { NULL } };

const struct ctl_cmd ctl_cmds[] = {
	{ "status", NULL, "status", no_args,
	  "kapad's version and generations; whether a data plane is attached, and its state",
	  ctl_render_keyvals },
	{ "policy", "add", "policy.add", policy_add_args,
	  "add a rule; the new rule set is in force once the data plane has it",
	  ctl_render_published },
	{ "policy", "list", "policy.list", no_args, "the rules and the default",
	  ctl_render_policy_list },
	{ "policy", "show", "policy.show", policy_name_args, "one rule", ctl_render_keyvals },
	{ "policy", "del", "policy.del", policy_name_args, "delete a rule", ctl_render_published },
	{ "policy", "default", "policy.default", POLICY_SPEC_ARGS,
	  "the default spec, for servers no rule matches: shown with no option, else replaced "
	  "by the one given (options left out are 0 / observe) and published with the rules",
	  ctl_render_policy_default },
	{ "conns", NULL, "conns", conns_args,
	  "the live connections, the longest idle first (LIMITS: timeout/max in force, - = none)",
	  ctl_render_conns },
	{ "conn", "close", "conn.close", conn_close_args,
	  "reset a connection both ways (RST to client and server)", ctl_render_message },
	{ "stats", NULL, "stats", stats_args,
	  "the counters, by group, and the histograms as log2 buckets", ctl_render_stats },
	{ "program", "load", "program.load", program_load_args,
	  "check and publish a policy program; the running one stays if it is refused",
	  ctl_render_published },
	{ "program", "show", "program.show", no_args,
	  "the program published, the one in force, the last refused and why", ctl_render_keyvals },
	{ "program", "unload", "program.unload", no_args, "back to the built-in decision",
	  ctl_render_published },
	{ NULL },
};

void
ctl_hex_encode(const void *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = bytes;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* --- the help, generated from the tables --- */

/* Print @p text from column @p col, wrapped at CTL_USAGE_WIDTH, continuation
 * lines indented to @p indent. @return the column after it. */
static int
usage_words(FILE *out, const char *text, int col, int indent)
{
	const char *p = text, *end;
	int len;

	while (*p != '\0') {
		end = strchr(p, ' ');
		len = end != NULL ? (int)(end - p) : (int)strlen(p);
		if (col > indent && col + 1 + len > CTL_USAGE_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, p);
		col += len;
		p += len;
		while (*p == ' ')
			p++;
	}
	return col;
}

/* How an argument reads in a synopsis: NAME, --match PREFIX[:PORT], [--max N]. */
static void
usage_arg(const struct ctl_arg *a, char *buf, size_t len, int brackets)
{
	int optional = brackets && a->name[0] == '-' && !a->required;

	snprintf(buf, len, "%s%s%s%s%s", optional ? "[" : "", a->name, a->metavar ? " " : "",
		 a->metavar ? a->metavar : "", optional ? "]" : "");
}

static void
usage_cmd(FILE *out, const struct ctl_cmd *c)
{
	const struct ctl_arg *a;
	char buf[128];
	int col, width = 0;

	col = fprintf(out, "  kapactl %s%s%s", c->object, c->verb ? " " : "", c->verb ? c->verb : "");
	for (a = c->args; a->name != NULL; a++) {
		usage_arg(a, buf, sizeof(buf), 1);
		col = usage_words(out, buf, col, 10);	/* an argument is one word here */
	}
	fputs("\n      ", out);
	usage_words(out, c->help, 6, 6);
	fputc('\n', out);
	for (a = c->args; a->name != NULL; a++) {
		usage_arg(a, buf, sizeof(buf), 0);
		if ((int)strlen(buf) > width)
			width = (int)strlen(buf);
	}
	for (a = c->args; a->name != NULL; a++) {
		usage_arg(a, buf, sizeof(buf), 0);
		col = fprintf(out, "      %-*s  ", width, buf);
		usage_words(out, a->help, col, col);
		fputc('\n', out);
	}
}

static void
usage_object(FILE *out, unsigned o)
{
	const struct ctl_cmd *c;

	fprintf(out, "%s: %s\n", ctl_objects[o].name, ctl_objects[o].help);
	for (c = ctl_cmds; c->object != NULL; c++)
		if (strcmp(c->object, ctl_objects[o].name) == 0)
			usage_cmd(out, c);
}

void
ctl_usage(FILE *out, const char *object)
{
	unsigned o, n = sizeof(ctl_objects) / sizeof(ctl_objects[0]);

	for (o = 0; object != NULL && o < n; o++) {
		if (strcmp(ctl_objects[o].name, object) == 0) {
			usage_object(out, o);
			fprintf(out, "(kapactl help: the global options and every object)\n");
			return;
		}
	}
	fprintf(out,
		"Usage: kapactl [-s|--socket PATH] [-j|--json] [--timeout S] OBJECT [VERB] [ARGS]\n"
		"       kapactl help [OBJECT] | kapactl OBJECT help\n"
		"\n"
		"Options (before OBJECT; after it, options are the command's):\n"
		"  -s, --socket PATH  kapad's control socket (default " KAPA_SOCKET_DEFAULT ")\n"
		"  -j, --json         kapad's result as JSON; errors as {\"error\", \"code\"} on stderr\n"
		"  --timeout S        seconds to wait for kapad to accept and to answer (default %d)\n"
		"  -h, --help         this help\n"
		"\n", CTL_TIMEOUT_DEFAULT_MS / 1000);
	for (o = 0; o < n; o++) {
		usage_object(out, o);
		fputc('\n', out);
	}
	fprintf(out,
		"Exit status: 0 done; 1 kapad refused the command (or a local error, such as a\n"
		"program file that cannot be read); 2 usage error; 3 kapad could not be reached\n"
		"or did not answer in time.\n");
}

/* --- global options --- */

static int
is_help(const char *s)
{
	return strcmp(s, "help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0;
}

/* A global option's value: "--opt=VALUE" or the next word. */
static const char *
global_value(int argc, char *const argv[], int *i, const char *eq)
{
	if (eq != NULL)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int
parse_timeout(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 86400)
		return -EINVAL;
	*ms = (int)(v * 1000 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

/* Parse the options before OBJECT. @return the index of OBJECT (argc when
 * there is none), or -1 with @p err set (a usage error), -2 for -h. */
static int
parse_globals(int argc, char *const argv[], struct ctl_cmdline *cl, char *err, size_t errlen)
{
	const char *arg, *eq, *val;
	size_t nlen;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0)
			return i + 1;
		eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return -2;
		if (strcmp(arg, "-j") == 0 || strcmp(arg, "--json") == 0) {
			cl->json = 1;
		} else if (strcmp(arg, "-s") == 0 || (nlen == 8 && strncmp(arg, "--socket", 8) == 0)) {
			val = global_value(argc, argv, &i, eq);
			if (val == NULL || val[0] == '\0') {
				snprintf(err, errlen, "%s needs the socket's PATH", arg);
				return -1;
			}
			cl->socket = val;
		} else if (nlen == 9 && strncmp(arg, "--timeout", 9) == 0) {
			val = global_value(argc, argv, &i, eq);
			if (val == NULL || parse_timeout(val, &cl->timeout_ms) != 0) {
				snprintf(err, errlen, "--timeout needs seconds, more than 0 and at most "
					 "86400 (not '%s')", val != NULL ? val : "");
				return -1;
			}
		} else {
			snprintf(err, errlen, "unknown option '%s'", arg);
			return -1;
		}
	}
	return i;
}

/* --- a command's arguments --- */

static const struct ctl_cmd *
find_cmd(const char *object, const char *verb)
{
	const struct ctl_cmd *c;

	for (c = ctl_cmds; c->object != NULL; c++)
		if (strcmp(c->object, object) == 0 &&
		    (c->verb == NULL || (verb != NULL && strcmp(c->verb, verb) == 0)))
			return c;
	return NULL;
}

/* The verbs of @p object, for "policy needs a verb: add, list, show, del". */
static void
verbs_of(const char *object, char *buf, size_t len)
{
	const struct ctl_cmd *c;
	size_t used = 0;

	buf[0] = '\0';
	for (c = ctl_cmds; c->object != NULL && used < len; c++)
		if (strcmp(c->object, object) == 0 && c->verb != NULL)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 c->verb);
}

/* Results of parsing one value (the ctl_cmdline_result they lead to). */
static enum ctl_cmdline_result
parse_uint(const struct ctl_arg *a, const char *s, json_t **v, char *err, size_t errlen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = s[0] >= '0' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
	if (!(s[0] >= '0' && s[0] <= '9') || errno != 0 || *end != '\0' || n < a->min ||
	    n > a->max) {
		snprintf(err, errlen, "%s %s: '%s' is not a whole number from %lu to %lu", a->name,
			 a->metavar, s, a->min, a->max);
		return CTL_CMDLINE_USAGE;
	}
	*v = json_integer((json_int_t)n);
	return CTL_CMDLINE_RUN;
}

/* W/SLOT/GEN: three decimal numbers that each fit 32 bits. */
static int
conn_id_ok(const char *s)
{
	unsigned long n;
	const char *p = s;
	char *end;
	int part;

	for (part = 0; part < 3; part++) {
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno != 0 || n > UINT32_MAX || *end != (part < 2 ? '/' : '\0'))
			return 0;
		p = end + 1;
	}
	return 1;
}

/* The program of @p path as {name, instructions}: a local failure, not a
 * usage error, when it cannot be read. */
static enum ctl_cmdline_result
parse_program(const char *path, json_t **v, int *errnum, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	uint32_t n;
	void *ins;
	char *hex;
	int rc;

	rc = kapa_bpfobj_read(path, KAPA_POLICY_SECTION, &ins, &n, err, errlen);
	if (rc != 0) {
		*errnum = -rc;
		return CTL_CMDLINE_FAILED;
	}
	hex = malloc((size_t)n * 16 + 1);
	if (hex == NULL) {
		free(ins);
		snprintf(err, errlen, "%s: out of memory", path);
		*errnum = ENOMEM;
		return CTL_CMDLINE_FAILED;
	}
	ctl_hex_encode(ins, (size_t)n * 8, hex);
	*v = json_pack("{s:s, s:s}", "name", base, "instructions", hex);
	free(hex);
	free(ins);
	if (*v == NULL) {
		snprintf(err, errlen, "%s: the file name is not UTF-8", path);
		*errnum = EINVAL;
		return CTL_CMDLINE_FAILED;
	}
	return CTL_CMDLINE_RUN;
}

static enum ctl_cmdline_result
parse_value(const struct ctl_arg *a, const char *s, json_t **v, int *errnum, char *err,
	    size_t errlen)
{
	switch (a->kind) {
	case CTL_ARG_UINT:
		return parse_uint(a, s, v, err, errlen);
	case CTL_ARG_MODE:
		if (strcmp(s, "observe") != 0 && strcmp(s, "enforce") != 0 &&
		    strcmp(s, "advertise") != 0) {
			snprintf(err, errlen, "--mode: '%s' is not observe, enforce or advertise", s);
			return CTL_CMDLINE_USAGE;
		}
		break;
	case CTL_ARG_CONN_ID:
		if (!conn_id_ok(s)) {
			snprintf(err, errlen, "'%s' is not a connection ID (W/SLOT/GEN, as kapactl "
				 "conns shows it)", s);
			return CTL_CMDLINE_USAGE;
		}
		break;
	case CTL_ARG_PROGRAM:
		return parse_program(s, v, errnum, err, errlen);
	default:
		if (s[0] == '\0') {
			snprintf(err, errlen, "%s must not be empty", a->name);
			return CTL_CMDLINE_USAGE;
		}
		break;
	}
	*v = json_string(s);
	if (*v == NULL) {
		snprintf(err, errlen, "%s: '%s' is not UTF-8", a->name, s);
		return CTL_CMDLINE_USAGE;
	}
	return CTL_CMDLINE_RUN;
}

static const struct ctl_arg *
find_option(const struct ctl_cmd *c, const char *name, size_t len)
{
	const struct ctl_arg *a;

	for (a = c->args; a->name != NULL; a++)
		if (a->name[0] == '-' && strlen(a->name) == len && strncmp(a->name, name, len) == 0)
			return a;
	return NULL;
}

static const struct ctl_arg *
next_positional(const struct ctl_cmd *c, json_t *const *vals)
{
	const struct ctl_arg *a;

	for (a = c->args; a->name != NULL; a++)
		if (a->name[0] != '-' && vals[a - c->args] == NULL)
			return a;
	return NULL;
}

/* Whether @p name is one of the global options (for the hint that they go
 * before OBJECT). */
static int
is_global_option(const char *name, size_t len)
{
	static const char *const globals[] = { "-s", "--socket", "-j", "--json", "--timeout" };
	unsigned g;

	for (g = 0; g < sizeof(globals) / sizeof(globals[0]); g++)
		if (strlen(globals[g]) == len && strncmp(globals[g], name, len) == 0)
			return 1;
	return 0;
}

/* One word of the command line at argv[*i]: an option (with its value) or
 * a positional, into @p vals (one slot per argument of the table). */
static enum ctl_cmdline_result
parse_word(const struct ctl_cmd *c, int argc, char *const argv[], int *i, int options,
	   json_t **vals, int *errnum, char *err, size_t errlen)
{
	const char *word = argv[*i], *eq = NULL, *val;
	const struct ctl_arg *a;
	size_t len;

	if (!options || word[0] != '-' || word[1] == '\0') {
		a = next_positional(c, vals);
		if (a == NULL) {
			snprintf(err, errlen, "unexpected argument '%s'", word);
			return CTL_CMDLINE_USAGE;
		}
		return parse_value(a, word, &vals[a - c->args], errnum, err, errlen);
	}
	eq = strncmp(word, "--", 2) == 0 ? strchr(word, '=') : NULL;
	len = eq != NULL ? (size_t)(eq - word) : strlen(word);
	a = find_option(c, word, len);
	if (a == NULL) {
		snprintf(err, errlen, "unknown option '%.*s'%s", (int)len, word,
			 is_global_option(word, len) ? " (global options go before OBJECT)" : "");
		return CTL_CMDLINE_USAGE;
	}
	if (vals[a - c->args] != NULL) {
		snprintf(err, errlen, "%s given twice", a->name);
		return CTL_CMDLINE_USAGE;
	}
	if (a->kind == CTL_ARG_FLAG || a->kind == CTL_ARG_PROMETHEUS) {
		if (eq != NULL) {
			snprintf(err, errlen, "%s takes no value", a->name);
			return CTL_CMDLINE_USAGE;
		}
		vals[a - c->args] = json_true();
		return CTL_CMDLINE_RUN;
	}
	val = eq != NULL ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
	if (val == NULL) {
		snprintf(err, errlen, "%s needs a value (%s)", a->name, a->metavar);
		return CTL_CMDLINE_USAGE;
	}
	return parse_value(a, val, &vals[a - c->args], errnum, err, errlen);
}

/* The request {"id": 1, "cmd": ..., "args": {...}}, its args in the table's
 * order (whatever the command line's), "args" left out when empty. */
static json_t *
build_request(const struct ctl_cmd *c, json_t **vals, struct ctl_cmdline *cl)
{
	json_t *req, *args = json_object();
	const struct ctl_arg *a;
	size_t i;

	if (args == NULL)
		return NULL;
	for (a = c->args, i = 0; a->name != NULL; a++, i++) {
		if (vals[i] == NULL)
			continue;
		if (a->kind == CTL_ARG_PROMETHEUS)
			cl->prometheus = 1;
		else if (a->kind == CTL_ARG_PROGRAM)
			json_object_update(args, vals[i]);	/* name, instructions */
		else
			json_object_set(args, a->key, vals[i]);
	}
	req = json_pack("{s:i, s:s}", "id", 1, "cmd", c->cmd);
	if (req != NULL && json_object_size(args) > 0)
		json_object_set(req, "args", args);
	json_decref(args);
	return req;
}

static enum ctl_cmdline_result
parse_args(const struct ctl_cmd *c, int argc, char *const argv[], int i, struct ctl_cmdline *cl,
	   char *err, size_t errlen)
{
	json_t *vals[CTL_ARGS_MAX] = { NULL };
	enum ctl_cmdline_result rc = CTL_CMDLINE_RUN;
	const struct ctl_arg *a;
	int options = 1;
	size_t n;

	for (; i < argc && rc == CTL_CMDLINE_RUN; i++) {
		if (options && strcmp(argv[i], "--") == 0)
			options = 0;	/* a rule named "-x": policy show -- -x */
		else
			rc = parse_word(c, argc, argv, &i, options, vals, &cl->errnum, err, errlen);
	}
	for (a = c->args; rc == CTL_CMDLINE_RUN && a->name != NULL; a++) {
		if (vals[a - c->args] == NULL && (a->name[0] != '-' || a->required)) {
			snprintf(err, errlen, "%s%s%s needs %s%s%s", c->object, c->verb ? " " : "",
				 c->verb ? c->verb : "", a->name, a->metavar ? " " : "",
				 a->metavar ? a->metavar : "");
			rc = CTL_CMDLINE_USAGE;
		}
	}
	if (rc == CTL_CMDLINE_RUN) {
		cl->req = build_request(c, vals, cl);
		if (cl->req == NULL) {
			snprintf(err, errlen, "out of memory");
			cl->errnum = ENOMEM;
			rc = CTL_CMDLINE_FAILED;
		}
	}
	for (n = 0; n < CTL_ARGS_MAX; n++)
		json_decref(vals[n]);
	return rc;
}

static const char *
known_object(const char *name)
{
	unsigned o;

	for (o = 0; o < sizeof(ctl_objects) / sizeof(ctl_objects[0]); o++)
		if (strcmp(ctl_objects[o].name, name) == 0)
			return ctl_objects[o].name;
	return NULL;
}

enum ctl_cmdline_result
ctl_cmdline_parse(int argc, char *const argv[], struct ctl_cmdline *cl, char *err, size_t errlen)
{
	enum ctl_cmdline_result rc;
	const char *verb;
	char verbs[128];
	int i, j;

	memset(cl, 0, sizeof(*cl));
	cl->socket = KAPA_SOCKET_DEFAULT;
	cl->timeout_ms = CTL_TIMEOUT_DEFAULT_MS;
	err[0] = '\0';
	i = parse_globals(argc, argv, cl, err, errlen);
	if (i == -2)
		return CTL_CMDLINE_HELP;
	if (i < 0)
		return CTL_CMDLINE_USAGE;
	if (i == argc) {
		snprintf(err, errlen, "no command given");
		return CTL_CMDLINE_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {	/* kapactl help [OBJECT] */
		cl->object = i + 1 < argc ? known_object(argv[i + 1]) : NULL;
		if (i + 1 < argc && cl->object == NULL) {
			snprintf(err, errlen, "unknown object '%s'", argv[i + 1]);
			return CTL_CMDLINE_USAGE;
		}
		return CTL_CMDLINE_HELP;
	}
	cl->object = known_object(argv[i]);
	if (cl->object == NULL) {
		snprintf(err, errlen, "unknown object '%s'", argv[i]);
		return CTL_CMDLINE_USAGE;
	}
	verb = ++i < argc ? argv[i] : NULL;
	if (verb != NULL && is_help(verb))
		return CTL_CMDLINE_HELP;
	cl->cmd = find_cmd(cl->object, verb);
	if (cl->cmd == NULL) {
		verbs_of(cl->object, verbs, sizeof(verbs));
		if (verb == NULL)
			snprintf(err, errlen, "%s needs a verb: %s", cl->object, verbs);
		else
			snprintf(err, errlen, "unknown verb '%s' for %s (%s)", verb, cl->object, verbs);
		return CTL_CMDLINE_USAGE;
	}
	if (cl->cmd->verb != NULL)
		i++;
	for (j = i; j < argc; j++)	/* -h anywhere among a command's words */
		if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0)
			return CTL_CMDLINE_HELP;
	rc = parse_args(cl->cmd, argc, argv, i, cl, err, errlen);
	if (rc == CTL_CMDLINE_RUN && cl->json && cl->prometheus) {
		snprintf(err, errlen, "-j and --prometheus are two output formats: choose one");
		ctl_cmdline_clear(cl);
		rc = CTL_CMDLINE_USAGE;
	}
	return rc;
}

void
ctl_cmdline_clear(struct ctl_cmdline *cl)
{
	json_decref(cl->req);
	cl->req = NULL;
}
