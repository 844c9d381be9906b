/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapactl (ctl/kapactl) and kapa_client (ctl/common): no kapad, no root.
 * - every command line's exact request, and the usage errors;
 * - canned results rendered as tables and lines, and as Prometheus text,
 *   which `promtool check metrics` must accept (KAPA_PROMTOOL, from meson);
 * - the hex of a policy program's instructions (KAPA_PROG_DEFAULT);
 * - kapa_client's framing against in-test servers over a socketpair or a
 *   socket file: a response split over several reads, two in one read, the
 *   size bounds, a timeout, a peer that closes, garbage, connect errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "kapa_bpfobj.h"
#include "kapa_client.h"
#include "kapa_policy_ctx.h"
#include "kapa_prom.h"
#include "ctl_commands.h"
#include "ctl_output.h"
#include "kapa_prom.h"
#include "ctl_render.h"
#include "ctl_stats.h"
#include "unit.h"

/* --- command lines --- */

/* argv of "kapactl " + @p line split at spaces; valid until the next call. */
static char argbuf[4096];
static char *argvec[64];

static int
split(const char *line)
{
	int argc = 0;
	char *p;

	argvec[argc++] = "kapactl";
	snprintf(argbuf, sizeof(argbuf), "%s", line);
	for (p = strtok(argbuf, " "); p != NULL && argc < 63; p = strtok(NULL, " "))
		argvec[argc++] = p;
	argvec[argc] = NULL;
	return argc;
}

static enum ctl_cmdline_result
parse(const char *line, struct ctl_cmdline *cl, char *err, size_t errlen)
{
	int argc = split(line);

	return ctl_cmdline_parse(argc, argvec, cl, err, errlen);
}

/* The request @p line builds, as compact JSON (freed by the caller), or NULL. */
static char *
request_of(const char *line)
{
	struct ctl_cmdline cl;
	char err[512], *s = NULL;

	if (parse(line, &cl, err, sizeof(err)) == CTL_CMDLINE_RUN)
		s = json_dumps(cl.req, JSON_COMPACT);
	else
		fprintf(stderr, "\n'%s': %s\n", line, err);
	ctl_cmdline_clear(&cl);
	return s;
}

static void
expect_request(const char *line, const char *want)
{
	char *got = request_of(line);

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n'%s':\n  got  %s\n  want %s\n", line, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void
test_requests(void)
{
	static const struct {
		const char *line, *req;
	} cases[] = {
		{ "status", "{\"id\":1,\"cmd\":\"status\"}" },
		{ "policy add web --match 198.18.0.0/15:80 --timeout 30 --max 100 --stall 10 "
		  "--opaque-idle 300 --mode advertise",
		  "{\"id\":1,\"cmd\":\"policy.add\",\"args\":{\"name\":\"web\",\"match\":"
		  "\"198.18.0.0/15:80\",\"timeout\":30,\"max\":100,\"stall\":10,\"opaque_idle\":300,"
		  "\"mode\":\"advertise\"}}" },
		/* any order, --opt=VALUE: the request keeps the table's order */
		{ "policy add --mode=enforce --max=0 --match [2001:db8::/32]:443 v6",
		  "{\"id\":1,\"cmd\":\"policy.add\",\"args\":{\"name\":\"v6\",\"match\":"
		  "\"[2001:db8::/32]:443\",\"max\":0,\"mode\":\"enforce\"}}" },
		{ "policy add web --match 10.0.0.0/8 --timeout 2147483647",
		  "{\"id\":1,\"cmd\":\"policy.add\",\"args\":{\"name\":\"web\",\"match\":"
		  "\"10.0.0.0/8\",\"timeout\":2147483647}}" },
		{ "policy list", "{\"id\":1,\"cmd\":\"policy.list\"}" },
		{ "policy show web", "{\"id\":1,\"cmd\":\"policy.show\",\"args\":{\"name\":\"web\"}}" },
		{ "policy del web", "{\"id\":1,\"cmd\":\"policy.del\",\"args\":{\"name\":\"web\"}}" },
		/* policy default: shown with no option, set with the spec's */
		{ "policy default", "{\"id\":1,\"cmd\":\"policy.default\"}" },
		{ "policy default --timeout 75 --mode enforce --opaque-idle 600",
		  "{\"id\":1,\"cmd\":\"policy.default\",\"args\":{\"timeout\":75,"
		  "\"opaque_idle\":600,\"mode\":\"enforce\"}}" },
		{ "policy default --max=0 --stall 5",
		  "{\"id\":1,\"cmd\":\"policy.default\",\"args\":{\"max\":0,\"stall\":5}}" },
		{ "policy show -- -odd", "{\"id\":1,\"cmd\":\"policy.show\",\"args\":{\"name\":\"-odd\"}}" },
		{ "conns", "{\"id\":1,\"cmd\":\"conns\"}" },
		{ "conns --limit 20 --idle-over 5",
		  "{\"id\":1,\"cmd\":\"conns\",\"args\":{\"idle_over\":5,\"limit\":20}}" },
		{ "conns --limit 10000", "{\"id\":1,\"cmd\":\"conns\",\"args\":{\"limit\":10000}}" },
		{ "conn close 0/17/3", "{\"id\":1,\"cmd\":\"conn.close\",\"args\":{\"id\":\"0/17/3\"}}" },
		{ "conn close 3/4294967295/4294967295",
		  "{\"id\":1,\"cmd\":\"conn.close\",\"args\":{\"id\":\"3/4294967295/4294967295\"}}" },
		{ "stats", "{\"id\":1,\"cmd\":\"stats\"}" },
		{ "stats --workers", "{\"id\":1,\"cmd\":\"stats\",\"args\":{\"workers\":true}}" },
		{ "stats --prometheus", "{\"id\":1,\"cmd\":\"stats\"}" },
		{ "stats --prometheus --workers", "{\"id\":1,\"cmd\":\"stats\",\"args\":{\"workers\":true}}" },
		{ "program show", "{\"id\":1,\"cmd\":\"program.show\"}" },
		{ "program unload", "{\"id\":1,\"cmd\":\"program.unload\"}" },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_request(cases[i].line, cases[i].req);
}

static void
test_global_options(void)
{
	struct ctl_cmdline cl;
	char err[512];

	CU_ASSERT_EQUAL(parse("status", &cl, err, sizeof(err)), CTL_CMDLINE_RUN);
	CU_ASSERT_STRING_EQUAL(cl.socket, KAPA_SOCKET_DEFAULT);
	CU_ASSERT_EQUAL(cl.timeout_ms, 10000);
	CU_ASSERT_EQUAL(cl.json, 0);
	CU_ASSERT_PTR_EQUAL(cl.cmd->render, ctl_render_keyvals);
	ctl_cmdline_clear(&cl);

	CU_ASSERT_EQUAL(parse("-s /tmp/k.sock -j --timeout 2.5 policy list", &cl, err, sizeof(err)),
			CTL_CMDLINE_RUN);
	CU_ASSERT_STRING_EQUAL(cl.socket, "/tmp/k.sock");
	CU_ASSERT_EQUAL(cl.json, 1);
	CU_ASSERT_EQUAL(cl.timeout_ms, 2500);
	CU_ASSERT_STRING_EQUAL(cl.cmd->cmd, "policy.list");
	ctl_cmdline_clear(&cl);

	CU_ASSERT_EQUAL(parse("--socket=/x.sock --json --timeout=1 stats --prometheus", &cl, err,
			      sizeof(err)), CTL_CMDLINE_USAGE);	/* -j and --prometheus */
	CU_ASSERT_EQUAL(parse("--socket=/x.sock --timeout=1 stats --prometheus", &cl, err,
			      sizeof(err)), CTL_CMDLINE_RUN);
	CU_ASSERT_STRING_EQUAL(cl.socket, "/x.sock");
	CU_ASSERT_EQUAL(cl.timeout_ms, 1000);
	CU_ASSERT_EQUAL(cl.prometheus, 1);
	ctl_cmdline_clear(&cl);

	/* After OBJECT, --timeout is the rule's, not kapactl's. */
	CU_ASSERT_EQUAL(parse("policy add w --match 10.0.0.0/8 --timeout 7", &cl, err, sizeof(err)),
			CTL_CMDLINE_RUN);
	CU_ASSERT_EQUAL(cl.timeout_ms, 10000);
	ctl_cmdline_clear(&cl);
}

static void
test_help(void)
{
	static const struct {
		const char *line, *object;
	} cases[] = {
		{ "help", NULL }, { "-h", NULL }, { "--help", NULL }, { "-j --help", NULL },
		{ "help policy", "policy" }, { "policy help", "policy" }, { "policy -h", "policy" },
		{ "policy add -h", "policy" }, { "conns --help", "conns" }, { "stats help", "stats" },
		{ "program help", "program" }, { "conn help", "conn" },
	};
	struct ctl_cmdline cl;
	char err[512];
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(parse(cases[i].line, &cl, err, sizeof(err)), CTL_CMDLINE_HELP);
		/* CU_ASSERT_* are blocks: braces around them in if/else */
		if (cases[i].object == NULL) {
			CU_ASSERT_PTR_NULL(cl.object);
		} else {
			CU_ASSERT_STRING_EQUAL(cl.object, cases[i].object);
		}
		CU_ASSERT_PTR_NULL(cl.req);
	}
}

static void
test_usage_errors(void)
{
	static const struct {
		const char *line;	/* its request fails with */
		const char *err;	/* a message that says this */
		const char *object;	/* and shows this object's usage (NULL: all) */
	} cases[] = {
		{ "", "no command given", NULL },
		{ "frob", "unknown object 'frob'", NULL },
		{ "help frob", "unknown object 'frob'", NULL },
		{ "--bogus status", "unknown option '--bogus'", NULL },
		{ "--timeout 0 status", "--timeout needs seconds", NULL },
		{ "--timeout abc status", "--timeout needs seconds", NULL },
		{ "--timeout", "--timeout needs seconds", NULL },
		{ "-s", "-s needs the socket's PATH", NULL },
		{ "policy", "policy needs a verb: add, list, show, del, default", "policy" },
		{ "policy frob", "unknown verb 'frob' for policy (add, list, show, del, default)", "policy" },
		{ "policy add web", "policy add needs --match PREFIX[:PORT]", "policy" },
		{ "policy add --match 10.0.0.0/8", "policy add needs NAME", "policy" },
		{ "policy add web --match", "--match needs a value (PREFIX[:PORT])", "policy" },
		{ "policy add web --match 10.0.0.0/8 --timeout abc",
		  "--timeout S: 'abc' is not a whole number from 0 to 2147483647", "policy" },
		{ "policy add web --match 10.0.0.0/8 --timeout -1", "'-1' is not a whole number", "policy" },
		{ "policy add web --match 10.0.0.0/8 --max 2147483648",
		  "--max N: '2147483648' is not a whole number", "policy" },
		{ "policy add web --match 10.0.0.0/8 --stall 1x", "'1x' is not a whole number", "policy" },
		{ "policy add web --match 10.0.0.0/8 --mode fast",
		  "--mode: 'fast' is not observe, enforce or advertise", "policy" },
		{ "policy add web --match 10.0.0.0/8 --max 1 --max 2", "--max given twice", "policy" },
		{ "policy add web --match 10.0.0.0/8 --bogus 1", "unknown option '--bogus'", "policy" },
		{ "policy add web --match= ", "--match must not be empty", "policy" },
		{ "policy list extra", "unexpected argument 'extra'", "policy" },
		{ "policy list -j", "unknown option '-j' (global options go before OBJECT)", "policy" },
		{ "policy show", "policy show needs NAME", "policy" },
		{ "policy default web", "unexpected argument 'web'", "policy" },
		{ "policy default --match 10.0.0.0/8", "unknown option '--match'", "policy" },
		{ "policy default --mode strict", "--mode: 'strict' is not observe", "policy" },
		{ "policy default --timeout 2147483648", "'2147483648' is not a whole number", "policy" },
		{ "policy show a b", "unexpected argument 'b'", "policy" },
		{ "conns --limit 0", "--limit N: '0' is not a whole number from 1 to 10000", "conns" },
		{ "conns --limit 10001", "'10001' is not a whole number from 1 to 10000", "conns" },
		{ "conns --idle-over", "--idle-over needs a value (S)", "conns" },
		{ "conns --timeout=5 status", "unknown option '--timeout' (global options go before OBJECT)",
		  "conns" },
		{ "conn", "conn needs a verb: close", "conn" },
		{ "conn close", "conn close needs ID", "conn" },
		{ "conn close 1/2", "'1/2' is not a connection ID (W/SLOT/GEN", "conn" },
		{ "conn close 1/2/3/4", "'1/2/3/4' is not a connection ID", "conn" },
		{ "conn close 1/x/3", "'1/x/3' is not a connection ID", "conn" },
		{ "conn close 1/-2/3", "'1/-2/3' is not a connection ID", "conn" },
		{ "conn close 4294967296/0/0", "'4294967296/0/0' is not a connection ID", "conn" },
		{ "stats --workers=yes", "--workers takes no value", "stats" },
		{ "stats --workers --workers", "--workers given twice", "stats" },
		{ "-j stats --prometheus", "-j and --prometheus are two output formats", "stats" },
		{ "program", "program needs a verb: load, show, unload", "program" },
		{ "program load", "program load needs FILE.bpf.o", "program" },
		{ "status now", "unexpected argument 'now'", "status" },
	};
	struct ctl_cmdline cl;
	char err[512];
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum ctl_cmdline_result rc = parse(cases[i].line, &cl, err, sizeof(err));

		if (rc != CTL_CMDLINE_USAGE || strstr(err, cases[i].err) == NULL)
			fprintf(stderr, "\n'%s': result %d, '%s' (want '%s')\n", cases[i].line, rc,
				err, cases[i].err);
		CU_ASSERT_EQUAL(rc, CTL_CMDLINE_USAGE);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].err));
		CU_ASSERT_PTR_NULL(cl.req);
		if (cases[i].object == NULL) {
			CU_ASSERT_PTR_NULL(cl.object);
		} else if (cl.object != NULL) {
			CU_ASSERT_STRING_EQUAL(cl.object, cases[i].object);
		} else {
			CU_FAIL("no object for the usage");
		}
		ctl_cmdline_clear(&cl);
	}
}

/* The text @p fn writes, in memory (freed by the caller). */
static char *
capture(void (*fn)(FILE *, const void *), const void *arg)
{
	/* On the heap: gcc takes a local that open_memstream() writes for a
	 * dangling pointer once it is returned. */
	struct {
		char *text;
		size_t len;
	} *m = calloc(1, sizeof(*m));
	char *text;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	f = open_memstream(&m->text, &m->len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fn(f, arg);
	fclose(f);
	text = m->text;
	free(m);
	return text;
}

static void
usage_all(FILE *f, const void *arg)
{
	(void)arg;
	ctl_usage(f, NULL);
}

static void
usage_policy(FILE *f, const void *arg)
{
	(void)arg;
	ctl_usage(f, "policy");
}

/* Help is the command table: every object, verb, argument and meaning. */
static void
test_usage_text(void)
{
	char *all = capture(usage_all, NULL), *policy = capture(usage_policy, NULL);
	const struct ctl_cmd *c;
	const struct ctl_arg *a;
	char want[256], word[64];

	for (c = ctl_cmds; c->object != NULL; c++) {
		snprintf(want, sizeof(want), "  kapactl %s%s%s", c->object, c->verb ? " " : "",
			 c->verb ? c->verb : "");
		CU_ASSERT_PTR_NOT_NULL(strstr(all, want));
		CU_ASSERT_EQUAL(strstr(policy, want) != NULL, strcmp(c->object, "policy") == 0);
		for (a = c->args; a->name != NULL; a++) {
			/* "      NAME  the rule's ..." : the argument, then its meaning */
			snprintf(word, sizeof(word), "%.*s", (int)strcspn(a->help, " "), a->help);
			snprintf(want, sizeof(want), "      %s%s%s ", a->name, a->metavar ? " " : "",
				 a->metavar ? a->metavar : "");
			CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(all, want));
			CU_ASSERT_PTR_NOT_NULL(strstr(strstr(all, want), word));
		}
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "Exit status: 0 done; 1 kapad refused"));
	/* kapad keeps connections idle for S seconds or more */
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "idle for at least S seconds"));
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "--timeout S "));
	free(all);
	free(policy);
}

/* --- a policy program's instructions --- */

static void
test_hex(void)
{
	/* mov r0, 1 (0xb7) then exit (0x95), bytes as clang writes them (little endian) */
	static const uint8_t prog[16] = { 0xb7, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
					  0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t all[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
	char hex[64];

	ctl_hex_encode(prog, sizeof(prog), hex);
	CU_ASSERT_STRING_EQUAL(hex, "b7000000010000009500000000000000");
	ctl_hex_encode(all, sizeof(all), hex);
	CU_ASSERT_STRING_EQUAL(hex, "00017f80abcdefff");
	ctl_hex_encode(all, 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "");
}

static void
test_program_load(void)
{
	const char *path = getenv("KAPA_PROG_DEFAULT");
	struct ctl_cmdline cl;
	char line[1024], err[512], *hex;
	const json_t *args;
	const char *got;
	uint32_t n;
	void *ins;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);	/* set by meson */
	CU_ASSERT_EQUAL_FATAL(kapa_bpfobj_read(path, KAPA_POLICY_SECTION, &ins, &n, err,
					       sizeof(err)), 0);
	hex = malloc((size_t)n * 16 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hex);
	ctl_hex_encode(ins, (size_t)n * 8, hex);

	snprintf(line, sizeof(line), "program load %s", path);
	CU_ASSERT_EQUAL_FATAL(parse(line, &cl, err, sizeof(err)), CTL_CMDLINE_RUN);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(cl.req, "cmd")), "program.load");
	args = json_object_get(cl.req, "args");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(args, "name")),
			       "policy_default.bpf.o");
	got = json_string_value(json_object_get(args, "instructions"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(strlen(got), (size_t)n * 16);	/* 16 digits an instruction */
	CU_ASSERT_STRING_EQUAL(got, hex);
	CU_ASSERT_EQUAL(json_object_size(args), 2);
	ctl_cmdline_clear(&cl);
	free(hex);
	free(ins);

	/* A file that is not there: a failure (exit 1), not a usage error. */
	CU_ASSERT_EQUAL(parse("program load /nonexistent/p.bpf.o", &cl, err, sizeof(err)),
			CTL_CMDLINE_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/p.bpf.o: No such file or directory"));
	CU_ASSERT_EQUAL(cl.errnum, ENOENT);	/* the JSON error's code */
	CU_ASSERT_PTR_NULL(cl.req);
}

/* --- results for people --- */

struct render_call {
	ctl_render_fn *fn;
	json_t *result;
};

static void
render_into(FILE *f, const void *arg)
{
	const struct render_call *r = arg;

	r->fn(f, r->result);
}

/* @p fn's text of the JSON @p result (freed by the caller). */
static char *
render(ctl_render_fn *fn, const char *result)
{
	struct render_call r = { fn, json_loads(result, 0, NULL) };
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r.result);
	text = capture(render_into, &r);
	json_decref(r.result);
	return text;
}

static void
expect_render(ctl_render_fn *fn, const char *result, const char *want)
{
	char *got = render(fn, result);

	if (strcmp(got, want) != 0)
		fprintf(stderr, "\ngot:\n%s\nwant:\n%s\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void
test_render_policy(void)
{
	expect_render(ctl_render_policy_list,
		"{\"generation\": 4, \"default\": {\"timeout\": 0, \"max\": 0, \"stall\": 0, "
		"\"opaque_idle\": 0, \"mode\": \"observe\"}, \"rules\": ["
		"{\"name\": \"web\", \"match\": \"198.18.0.0/15:80\", \"timeout\": 30, \"max\": 100, "
		"\"stall\": 10, \"opaque_idle\": 0, \"mode\": \"enforce\"}, "
		"{\"name\": \"tls\", \"match\": \"[2001:db8::/32]:443\", \"timeout\": 0, \"max\": 0, "
		"\"stall\": 0, \"opaque_idle\": 300, \"mode\": \"advertise\"}]}",
		"NAME       MATCH                MODE       TIMEOUT  MAX  STALL  OPAQUE_IDLE\n"
		"web        198.18.0.0/15:80     enforce        30s  100    10s            -\n"
		"tls        [2001:db8::/32]:443  advertise        -    -      -         300s\n"
		"(default)  *                    observe          -    -      -            -\n"
		"generation 4\n");
	expect_render(ctl_render_keyvals,
		"{\"name\": \"web\", \"match\": \"198.18.0.0/15:80\", \"timeout\": 30, \"max\": 100, "
		"\"stall\": 10, \"opaque_idle\": 0, \"mode\": \"enforce\"}",
		"name:        web\n"
		"match:       198.18.0.0/15:80\n"
		"timeout:     30\n"
		"max:         100\n"
		"stall:       10\n"
		"opaque_idle: 0\n"
		"mode:        enforce\n");
	expect_render(ctl_render_published,
		"{\"generation\": 5, \"applied\": true, \"delay_ms\": 12}",
		"generation 5 in force after 12 ms\n");
	expect_render(ctl_render_published,
		"{\"generation\": 6, \"applied\": false, \"note\": \"no data plane attached\"}",
		"generation 6 published, not in force yet (no data plane attached)\n");
	expect_render(ctl_render_published,
		"{\"generation\": 2, \"instructions\": 42, \"applied\": true, \"delay_ms\": 3}",
		"42 instructions, generation 2 in force after 3 ms\n");
	expect_render(ctl_render_published,
		"{\"generation\": 3, \"instructions\": 0, \"applied\": true, \"delay_ms\": 1}",
		"built-in decision, generation 3 in force after 1 ms\n");
	/* policy default: shown, then set */
	expect_render(ctl_render_policy_default,
		"{\"generation\": 7, \"default\": {\"timeout\": 75, \"max\": 0, \"stall\": 0, "
		"\"opaque_idle\": 0, \"mode\": \"enforce\"}}",
		"timeout:     75\n"
		"max:         0\n"
		"stall:       0\n"
		"opaque_idle: 0\n"
		"mode:        enforce\n"
		"generation 7\n");
	expect_render(ctl_render_policy_default,
		"{\"generation\": 8, \"default\": {\"timeout\": 30}, \"applied\": true, "
		"\"delay_ms\": 4}",
		"generation 8 in force after 4 ms\n");
	expect_render(ctl_render_message, "{\"message\": \"connection 0/17/3 reset\"}",
		      "connection 0/17/3 reset\n");
}

static void
test_render_status(void)
{
	expect_render(ctl_render_keyvals,
		"{\"version\": \"0.1.0\", \"uptime_s\": 3600, \"socket\": \"/run/kapa/kapad.sock\", "
		"\"map_root\": \"/sys/fs/bpf/kapa\", \"rules_generation\": 4, "
		"\"program_generation\": 0, \"program_name\": \"built-in\", \"dataplane\": "
		"{\"attached\": true, \"pid\": 1234, \"workers\": 2, \"heartbeat_age_ms\": 8}}",
		"version:            0.1.0\n"
		"uptime_s:           3600\n"
		"socket:             /run/kapa/kapad.sock\n"
		"map_root:           /sys/fs/bpf/kapa\n"
		"rules_generation:   4\n"
		"program_generation: 0\n"
		"program_name:       built-in\n"
		"dataplane:\n"
		"  attached:         yes\n"
		"  pid:              1234\n"
		"  workers:          2\n"
		"  heartbeat_age_ms: 8\n");
	expect_render(ctl_render_keyvals,
		"{\"generation\": 2, \"name\": \"p.bpf.o\", \"refused\": {\"generation\": 3, "
		"\"why\": \"r0 out of range\"}, \"flags\": [\"a\", \"b\"], \"none\": [], \"n\": null}",
		"generation: 2\n"
		"name:       p.bpf.o\n"
		"refused:\n"
		"  generation: 3\n"
		"  why:        r0 out of range\n"
		"flags:      a, b\n"
		"none:       -\n"
		"n:          -\n");
}

static void
test_render_conns(void)
{
	expect_render(ctl_render_conns,
		"{\"total\": 57, \"conns\": ["
		"{\"id\": \"0/17/3\", \"client\": \"198.18.0.1:40000\", \"server\": \"198.18.0.2:80\", "
		"\"state\": \"established\", \"mode\": \"enforce\", \"flags\": [\"persistent\"], "
		"\"requests\": 4, \"responses\": 4, \"idle_ms\": 12345, \"age_ms\": 60000, "
		"\"timeout\": 30, \"max\": 100},"
		"{\"id\": \"1/2/1\", \"client\": \"[2001:db8::1]:51000\", \"server\": \"[2001:db8::2]:443\", "
		"\"state\": \"established\", \"mode\": \"observe\", \"flags\": [\"opaque\"], "
		"\"requests\": 0, \"responses\": 0, \"idle_ms\": 850, \"age_ms\": 900, "
		"\"timeout\": 0, \"max\": 0},"
		"{\"id\": \"1/9/7\", \"client\": \"198.18.0.1:40002\", \"server\": \"198.18.0.2:80\", "
		"\"state\": \"established\", \"mode\": \"advertise\", \"requests\": 1200, "
		"\"idle_ms\": 185000, \"timeout\": 0, \"max\": 1000}]}",
		"ID      CLIENT               SERVER             STATE        MODE       REQS   IDLE  LIMITS\n"
		"0/17/3  198.18.0.1:40000     198.18.0.2:80      established  enforce       4  12.3s  30s/100\n"
		"1/2/1   [2001:db8::1]:51000  [2001:db8::2]:443  established  observe       0  850ms  -\n"
		"1/9/7   198.18.0.1:40002     198.18.0.2:80      established  advertise  1200  3m05s  -/1000\n"
		"3 of 57 connections (longest idle first)\n");
	expect_render(ctl_render_conns, "{\"total\": 0, \"conns\": []}", "no connections\n");
}

static void
test_fmt_ms(void)
{
	char b[32];

	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 0), "0ms");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 999), "999ms");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 1000), "1.0s");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 59999), "59.9s");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 60000), "1m00s");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 3599999), "59m59s");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 3600000), "1h00m");
	CU_ASSERT_STRING_EQUAL(ctl_fmt_ms(b, sizeof(b), 90061000), "1d01h");
}

/* 32 buckets: @p nz pairs of (bucket, count), the rest 0. */
static json_t *
buckets(unsigned nz, const unsigned *pairs)
{
	json_t *a = json_array();
	unsigned b, i;

	for (b = 0; b < KAPA_HIST_BUCKETS; b++) {
		json_int_t c = 0;

		for (i = 0; i < nz; i++)
			if (pairs[2 * i] == b)
				c = pairs[2 * i + 1];
		json_array_append_new(a, json_integer(c));
	}
	return a;
}

/* A small stats result: three counters of the table and one it lacks;
 * requests in buckets 1, 2 and 31; idle gaps none; lifetimes in 0 and 10. */
static json_t *
small_stats(int per_worker, int sums)
{
	static const unsigned req[] = { 1, 2, 2, 3, 31, 1 }, life[] = { 0, 4, 10, 1 };
	json_t *r = json_pack("{s:{s:i, s:i, s:i, s:i}, s:{s:o, s:o, s:o}}",
		"counters", "rx_packets", 1200, "conns_active", 3, "http_requests", 57,
		"future_events", 9,
		"histograms", "requests", buckets(3, req), "idle_ms", buckets(0, NULL),
		"lifetime_ms", buckets(2, life));

	if (per_worker)
		json_object_set_new(r, "per_worker", json_pack(
			"[{s:i, s:i, s:{s:i, s:i, s:i, s:i}}, {s:i, s:i, s:{s:i, s:i, s:i, s:i}}]",
			"worker", 0, "heartbeat_age_ms", 4, "counters", "rx_packets", 1000,
			"conns_active", 2, "http_requests", 50, "future_events", 9,
			"worker", 1, "heartbeat_age_ms", 6, "counters", "rx_packets", 200,
			"conns_active", 1, "http_requests", 7, "future_events", 0));
	if (sums)
		json_object_set_new(r, "histogram_sums", json_pack("{s:i, s:i, s:i}",
			"requests", 1073741835, "idle_ms", 0, "lifetime_ms", 1500));
	return r;
}

static void
render_stats_into(FILE *f, const void *arg)
{
	ctl_render_stats(f, arg);
}

static void
test_render_stats(void)
{
	json_t *r = small_stats(0, 0);
	char *got = capture(render_stats_into, r);
	const char *want =
		"ports\n"
		"  rx_packets     1200\n"
		"connections\n"
		"  conns_active      3\n"
		"HTTP/1.x\n"
		"  http_requests    57\n"
		"other\n"
		"  future_events     9\n"
		"requests per connection\n"
		"  1                 2\n"
		"  2-3               3\n"
		"  1073741824+       1\n"
		"idle gap before a reuse (ms)\n"
		"  (none)\n"
		"connection lifetime (ms)\n"
		"  0                 4\n"
		"  512-1023          1\n";

	if (strcmp(got, want) != 0)
		fprintf(stderr, "\ngot:\n%s\nwant:\n%s\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	json_decref(r);

	r = small_stats(1, 0);
	got = capture(render_stats_into, r);
	want =
		"COUNTER             TOTAL    W0   W1\n"
		"workers\n"
		"  heartbeat_age_ms            4    6\n"
		"ports\n"
		"  rx_packets         1200  1000  200\n"
		"connections\n"
		"  conns_active          3     2    1\n"
		"HTTP/1.x\n"
		"  http_requests        57    50    7\n"
		"other\n"
		"  future_events         9     9    0\n"
		"requests per connection\n"
		"  1                     2\n"
		"  2-3                   3\n"
		"  1073741824+           1\n"
		"idle gap before a reuse (ms)\n"
		"  (none)\n"
		"connection lifetime (ms)\n"
		"  0                     4\n"
		"  512-1023              1\n";
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\ngot:\n%s\nwant:\n%s\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	json_decref(r);
}

/* Every group of the human listing starts at a counter the table has. */
static void
test_counter_groups(void)
{
	const char *missing = ctl_counter_groups_check();

	if (missing != NULL)
		fprintf(stderr, "\ngroup starts at '%s', not in kapa_counters.h\n", missing);
	CU_ASSERT_PTR_NULL(missing);
	CU_ASSERT_STRING_EQUAL(ctl_counter_group(0), "ports");
	CU_ASSERT_PTR_NULL(ctl_counter_group(1));
}

/* --- Prometheus --- */

static void
prom_into(FILE *f, const void *arg)
{
	CU_ASSERT_EQUAL(kapa_prom_write(f, arg), 0);
}

static void
expect_line(const char *text, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);	/* a whole line */
	if (strstr(text, want) == NULL)
		fprintf(stderr, "\nmissing line: %s\n", line);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
}

static void
test_prometheus_text(void)
{
	json_t *r = small_stats(0, 0);
	char *got = capture(prom_into, r);
	static const char first[] = "# HELP kapa_rx_packets_total frames received on the ports\n"
				    "# TYPE kapa_rx_packets_total counter\n"
				    "kapa_rx_packets_total 1200\n";

	CU_ASSERT_EQUAL(strncmp(got, first, strlen(first)), 0);
	expect_line(got, "# TYPE kapa_conns_active gauge");
	expect_line(got, "kapa_conns_active 3");
	expect_line(got, "kapa_http_requests_total 57");
	expect_line(got, "# TYPE kapa_future_events untyped");
	expect_line(got, "kapa_future_events 9");
	/* counters the result lacks are not invented */
	CU_ASSERT_PTR_NULL(strstr(got, "kapa_tx_packets"));
	/* requests: bucket b cumulated is le = 2^b - 1; the last bucket is +Inf's */
	expect_line(got, "# TYPE kapa_conn_requests histogram");
	expect_line(got, "kapa_conn_requests_bucket{le=\"0\"} 0");
	expect_line(got, "kapa_conn_requests_bucket{le=\"1\"} 2");
	expect_line(got, "kapa_conn_requests_bucket{le=\"3\"} 5");
	expect_line(got, "kapa_conn_requests_bucket{le=\"7\"} 5");
	expect_line(got, "kapa_conn_requests_bucket{le=\"1073741823\"} 5");
	expect_line(got, "kapa_conn_requests_bucket{le=\"+Inf\"} 6");
	expect_line(got, "kapa_conn_requests_count 6");
	CU_ASSERT_PTR_NULL(strstr(got, "_sum"));	/* not in the result: not made up */
	/* milliseconds as seconds, exactly */
	expect_line(got, "kapa_idle_gap_seconds_bucket{le=\"0\"} 0");
	expect_line(got, "kapa_idle_gap_seconds_bucket{le=\"0.001\"} 0");
	expect_line(got, "kapa_idle_gap_seconds_count 0");
	expect_line(got, "kapa_conn_lifetime_seconds_bucket{le=\"0\"} 4");
	expect_line(got, "kapa_conn_lifetime_seconds_bucket{le=\"0.511\"} 4");
	expect_line(got, "kapa_conn_lifetime_seconds_bucket{le=\"1.023\"} 5");
	expect_line(got, "kapa_conn_lifetime_seconds_bucket{le=\"1073741.823\"} 5");
	expect_line(got, "kapa_conn_lifetime_seconds_bucket{le=\"+Inf\"} 5");
	CU_ASSERT_PTR_NULL(strstr(got, "_ms"));
	free(got);
	json_decref(r);

	r = small_stats(1, 1);
	got = capture(prom_into, r);
	expect_line(got, "kapa_rx_packets_total{worker=\"0\"} 1000");
	expect_line(got, "kapa_rx_packets_total{worker=\"1\"} 200");
	expect_line(got, "kapa_conns_active{worker=\"1\"} 1");
	CU_ASSERT_PTR_NULL(strstr(got, "\nkapa_rx_packets_total 1200\n"));	/* no total beside */
	expect_line(got, "kapa_conn_requests_sum 1073741835");
	expect_line(got, "kapa_idle_gap_seconds_sum 0");
	expect_line(got, "kapa_conn_lifetime_seconds_sum 1.5");
	free(got);
	json_decref(r);

	r = json_object();	/* no counters: nothing to write */
	CU_ASSERT_EQUAL(kapa_prom_write(stdout, r), -EINVAL);
	json_decref(r);
}

/* A stats result with every counter of the table (and 2 workers). */
static json_t *
full_stats(int per_worker, int sums)
{
	static const unsigned pairs[] = { 0, 5, 1, 7, 4, 9, 30, 2, 31, 1 };
	json_t *c = json_object(), *w0 = json_object(), *w1 = json_object(), *r;
	unsigned i;

	for (i = 0; i < KAPA_COUNTER_COUNT; i++) {
		json_object_set_new(c, kapa_counter_name(i), json_integer(3 * i + 1));
		json_object_set_new(w0, kapa_counter_name(i), json_integer(i + 1));
		json_object_set_new(w1, kapa_counter_name(i), json_integer(2 * i));
	}
	r = json_pack("{s:o, s:{s:o, s:o, s:o}}", "counters", c, "histograms",
		      "requests", buckets(5, pairs), "idle_ms", buckets(5, pairs),
		      "lifetime_ms", buckets(5, pairs));
	if (per_worker)
		json_object_set_new(r, "per_worker", json_pack("[{s:i, s:i, s:o}, {s:i, s:i, s:o}]",
			"worker", 0, "heartbeat_age_ms", 3, "counters", w0,
			"worker", 1, "heartbeat_age_ms", 5, "counters", w1));
	else
		json_decref(w0);
	if (!per_worker)
		json_decref(w1);
	if (sums)
		json_object_set_new(r, "histogram_sums", json_pack("{s:i, s:i, s:i}",
			"requests", 123456, "idle_ms", 98765, "lifetime_ms", 4321));
	return r;
}

/* Run promtool check metrics over @p text. @return its exit status. */
static int
promtool_check(const char *text)
{
	const char *promtool = getenv("KAPA_PROMTOOL");
	char path[] = "/tmp/kapactl-prom-XXXXXX", cmd[1024], out[4096];
	size_t n;
	FILE *f, *p;
	int fd, rc;

	if (promtool == NULL) {
		fprintf(stderr, "\nKAPA_PROMTOOL not set (run through meson test)\n");
		return -1;
	}
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' check metrics < %s 2>&1", promtool, path);
	p = popen(cmd, "r");
	if (p == NULL) {
		unlink(path);
		return -1;
	}
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	rc = pclose(p);
	unlink(path);
	if (rc != 0)
		fprintf(stderr, "\npromtool check metrics:\n%s\n", out);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* promtool (Debian's prometheus) is required: the ctl tests need it too. */
static void
test_promtool(void)
{
	int per_worker, sums;

	for (per_worker = 0; per_worker < 2; per_worker++) {
		for (sums = 0; sums < 2; sums++) {
			json_t *r = full_stats(per_worker, sums);
			char *text = capture(prom_into, r);

			CU_ASSERT_EQUAL(promtool_check(text), 0);
			free(text);
			json_decref(r);
		}
	}
	/* with a counter this kapactl does not know */
	{
		json_t *r = small_stats(1, 0);
		char *text = capture(prom_into, r);

		CU_ASSERT_EQUAL(promtool_check(text), 0);
		free(text);
		json_decref(r);
	}
}

/* --- kapa_client --- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An in-test kapad: reads one request line, then writes its parts, with a
 * pause between them, then closes (or not). */
struct fake_kapad {
	int fd;
	const char *parts[4];
	size_t big;		/* > 0: then write this many bytes of @p fill */
	char fill;
	const char *after;	/* then this */
	int pause_ms;
	int read_request;	/* 1: read a line first */
	int close_after;
	char request[512];	/* the request line it read */
	pthread_t thread;
};

static void
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;	/* the client gave up (E2BIG): fine */
		p += n;
		len -= (size_t)n;
	}
}

static void *
fake_kapad_run(void *arg)
{
	struct fake_kapad *k = arg;
	struct timespec pause = { 0, (long)k->pause_ms * 1000000L };
	size_t got = 0;
	unsigned i;

	while (k->read_request && got < sizeof(k->request) - 1) {
		if (read(k->fd, k->request + got, 1) != 1 || k->request[got++] == '\n')
			break;
	}
	k->request[got] = '\0';
	for (i = 0; i < 4 && k->parts[i] != NULL; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		write_all(k->fd, k->parts[i], strlen(k->parts[i]));
	}
	if (k->big > 0) {
		size_t chunk = 1 << 20, left = k->big;
		char *buf = malloc(chunk);

		memset(buf, k->fill, chunk);
		while (left > 0) {
			size_t n = left < chunk ? left : chunk;

			write_all(k->fd, buf, n);
			left -= n;
		}
		free(buf);
	}
	if (k->after != NULL)
		write_all(k->fd, k->after, strlen(k->after));
	if (k->close_after)
		close(k->fd);
	return NULL;
}

/* A client over a socketpair whose other end @p k serves. */
static struct kapa_client *
fake_start(struct fake_kapad *k)
{
	struct kapa_client *c;
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	k->fd = sv[1];
	c = kapa_client_attach(sv[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&k->thread, NULL, fake_kapad_run, k), 0);
	return c;
}

static void
fake_stop(struct fake_kapad *k, struct kapa_client *c)
{
	kapa_client_destroy(c);	/* unblocks a writer the client stopped reading */
	pthread_join(k->thread, NULL);
	if (!k->close_after)
		close(k->fd);
}

static void
test_client_split_and_pipelined(void)
{
	struct fake_kapad k = {
		.parts = { "{\"id\":1,\"ok\":tr", "ue,\"result\":{\"a\":", "1}}\n{\"ok\":false,"
			   "\"error\":\"not served\",\"code\":\"EPERM\"}\n" },
		.pause_ms = 30, .read_request = 1,
	};
	json_t *req = json_pack("{s:i, s:s, s:{s:s}}", "id", 1, "cmd", "policy.show", "args",
				"name", "web"), *resp;
	struct kapa_client *c = fake_start(&k);
	const json_t *result;
	const char *code;
	char err[256];

	CU_ASSERT_EQUAL(kapa_client_call(c, req, 2000, &resp, err, sizeof(err)), 0);
	/* the request went as one compact line */
	CU_ASSERT_STRING_EQUAL(k.request,
			       "{\"id\":1,\"cmd\":\"policy.show\",\"args\":{\"name\":\"web\"}}\n");
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(result, "a")), 1);
	json_decref(resp);
	/* the second response came in the same read: kept for the next call */
	CU_ASSERT_EQUAL(kapa_client_recv(c, 2000, &resp, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(err, "not served");
	CU_ASSERT_STRING_EQUAL(code, "EPERM");
	json_decref(resp);
	json_decref(req);
	fake_stop(&k, c);
}

static void
test_client_bounds(void)
{
	/* exactly the limit: {"ok":true,"result":{"pad":"xxx..."}} */
	static const char head[] = "{\"ok\":true,\"result\":{\"pad\":\"", tail[] = "\"}}\n";
	struct fake_kapad k = { .parts = { head }, .fill = 'x', .after = tail };
	struct kapa_client *c;
	const json_t *result;
	const char *code;
	char err[256];
	json_t *resp;

	k.big = KAPA_CLIENT_RESPONSE_MAX - (sizeof(head) - 1) - (sizeof(tail) - 2);
	c = fake_start(&k);
	CU_ASSERT_EQUAL(kapa_client_recv(c, 10000, &resp, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(json_string_length(json_object_get(result, "pad")), k.big);
	json_decref(resp);
	fake_stop(&k, c);

	/* one byte more, without a newline: refused once it has read past the limit */
	memset(&k, 0, sizeof(k));
	k.big = (size_t)KAPA_CLIENT_RESPONSE_MAX + 1;
	k.fill = ' ';
	c = fake_start(&k);
	CU_ASSERT_EQUAL(kapa_client_recv(c, 10000, &resp, err, sizeof(err)), -E2BIG);
	CU_ASSERT_PTR_NULL(resp);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exceeds 64 MiB"));
	fake_stop(&k, c);
}

/* Reads everything from a socket until EOF, counting the bytes. */
struct drain {
	int fd;
	size_t bytes;
	pthread_t thread;
};

static void *
drain_run(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		d->bytes += (size_t)n;
	return NULL;
}

static void
test_client_request_too_long(void)
{
	char *pad = malloc(KAPA_CLIENT_REQUEST_MAX + 1), err[256];
	struct drain d = { 0 };
	struct kapa_client *c;
	json_t *req;
	int sv[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pad);
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = kapa_client_attach(sv[0]);
	d.fd = sv[1];
	CU_ASSERT_EQUAL_FATAL(pthread_create(&d.thread, NULL, drain_run, &d), 0);
	/* the line is {"p":"..."}: 8 bytes around the pad */
	memset(pad, 'x', KAPA_CLIENT_REQUEST_MAX - 8);
	pad[KAPA_CLIENT_REQUEST_MAX - 8] = '\0';
	req = json_pack("{s:s}", "p", pad);
	CU_ASSERT_EQUAL(kapa_client_send(c, req, 5000, err, sizeof(err)), 0);	/* at the limit */
	json_decref(req);
	pad[KAPA_CLIENT_REQUEST_MAX - 8] = 'x';
	pad[KAPA_CLIENT_REQUEST_MAX - 7] = '\0';
	req = json_pack("{s:s}", "p", pad);
	CU_ASSERT_EQUAL(kapa_client_send(c, req, 5000, err, sizeof(err)), -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exceeds the control protocol's limit"));
	json_decref(req);
	/* the one at the limit went, with its newline; the long one did not */
	kapa_client_destroy(c);
	pthread_join(d.thread, NULL);
	CU_ASSERT_EQUAL(d.bytes, KAPA_CLIENT_REQUEST_MAX + 1);
	close(sv[1]);
	free(pad);
}

static void
test_client_timeout_and_eof(void)
{
	struct fake_kapad k = { .parts = { NULL } };
	struct kapa_client *c;
	char err[256];
	json_t *resp;
	int64_t t0;
	int rc;

	/* a kapad that never answers */
	c = fake_start(&k);
	t0 = now_ms();
	rc = kapa_client_recv(c, 200, &resp, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -ETIMEDOUT);
	CU_ASSERT(now_ms() - t0 >= 190 && now_ms() - t0 < 2000);
	CU_ASSERT_STRING_EQUAL(err, "kapad did not answer in time");
	fake_stop(&k, c);

	/* the timeout counts the whole response, not each read: parts every 100 ms */
	memset(&k, 0, sizeof(k));
	k.parts[0] = "{\"ok\"";
	k.parts[1] = ":";
	k.parts[2] = "true";
	k.parts[3] = "}\n";
	k.pause_ms = 100;
	c = fake_start(&k);
	CU_ASSERT_EQUAL(kapa_client_recv(c, 150, &resp, err, sizeof(err)), -ETIMEDOUT);
	fake_stop(&k, c);

	/* a kapad that closes in the middle of a response */
	memset(&k, 0, sizeof(k));
	k.parts[0] = "{\"ok\":tr";
	k.close_after = 1;
	c = fake_start(&k);
	CU_ASSERT_EQUAL(kapa_client_recv(c, 2000, &resp, err, sizeof(err)), -ECONNRESET);
	CU_ASSERT_STRING_EQUAL(err, "kapad closed the connection in the middle of its response");
	fake_stop(&k, c);
}

static void
test_client_garbage(void)
{
	static const struct {
		const char *line;
		int rc;
	} cases[] = {
		{ "hello\n", -EPROTO },
		{ "[1,2]\n", -EPROTO },
		{ "{\"ok\":true}\n", 0 },
	};
	struct fake_kapad k;
	struct kapa_client *c;
	const json_t *result;
	const char *code;
	char err[256];
	json_t *resp;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&k, 0, sizeof(k));
		k.parts[0] = cases[i].line;
		c = fake_start(&k);
		CU_ASSERT_EQUAL(kapa_client_recv(c, 2000, &resp, err, sizeof(err)), cases[i].rc);
		json_decref(resp);
		fake_stop(&k, c);
	}

	/* an answer to another request */
	memset(&k, 0, sizeof(k));
	k.parts[0] = "{\"id\":2,\"ok\":true}\n";
	k.read_request = 1;
	c = fake_start(&k);
	{
		json_t *req = json_pack("{s:i, s:s}", "id", 1, "cmd", "status");

		CU_ASSERT_EQUAL(kapa_client_call(c, req, 2000, &resp, err, sizeof(err)), -EPROTO);
		json_decref(req);
	}
	fake_stop(&k, c);

	/* what a response says */
	resp = json_pack("{s:b}", "ok", 1);
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(result);
	json_decref(resp);
	resp = json_pack("{s:b, s:s}", "ok", 0, "error", "rule 'web' exists");
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(code, "EIO");
	CU_ASSERT_STRING_EQUAL(err, "rule 'web' exists");
	json_decref(resp);
	resp = json_pack("{s:s}", "result", "x");
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), -EPROTO);
	json_decref(resp);
	resp = json_pack("{s:b, s:i}", "ok", 1, "result", 3);
	CU_ASSERT_EQUAL(kapa_client_result(resp, &result, &code, err, sizeof(err)), -EPROTO);
	json_decref(resp);
}

/* --- connecting --- */

static char tmpdir[64];

static void
sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int
listen_at(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	if (backlog >= 0 && listen(fd, backlog) != 0)
		return -1;
	return fd;
}

struct accept_one {
	int lfd;
	struct fake_kapad k;
};

static void *
accept_and_serve(void *arg)
{
	struct accept_one *a = arg;

	a->k.fd = accept(a->lfd, NULL, NULL);
	if (a->k.fd >= 0)
		fake_kapad_run(&a->k);
	return NULL;
}

static void
test_connect(void)
{
	struct accept_one a = { .k = { .parts = { "{\"id\":1,\"ok\":true,\"result\":{}}\n" },
				       .read_request = 1, .close_after = 1 } };
	char path[256], err[512], longpath[300];
	struct kapa_client *c, *c2;
	pthread_t t;
	json_t *req, *resp;
	int fd;

	/* nothing there */
	sock_path(path, sizeof(path), "none.sock");
	errno = 0;
	CU_ASSERT_PTR_NULL(kapa_client_connect(path, 1000, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": No such file or directory (is kapad running?)"));

	/* a socket file nobody listens on (kapad died and left it) */
	sock_path(path, sizeof(path), "dead.sock");
	fd = listen_at(path, -1);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_PTR_NULL(kapa_client_connect(path, 1000, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Connection refused (is kapad running?)"));
	close(fd);

	/* a path no socket address holds */
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CU_ASSERT_PTR_NULL(kapa_client_connect(longpath, 1000, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);

	/* a kapad that listens: one exchange */
	sock_path(path, sizeof(path), "kapad.sock");
	a.lfd = listen_at(path, 8);
	CU_ASSERT_FATAL(a.lfd >= 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, accept_and_serve, &a), 0);
	c = kapa_client_connect(path, 1000, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	req = json_pack("{s:i, s:s}", "id", 1, "cmd", "status");
	CU_ASSERT_EQUAL(kapa_client_call(c, req, 2000, &resp, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(a.k.request, "{\"id\":1,\"cmd\":\"status\"}\n");
	json_decref(resp);
	json_decref(req);
	kapa_client_destroy(c);
	pthread_join(t, NULL);
	close(a.lfd);

	/* a kapad whose backlog is full (it stopped accepting): the connect times out */
	sock_path(path, sizeof(path), "busy.sock");
	fd = listen_at(path, 0);
	CU_ASSERT_FATAL(fd >= 0);
	c = kapa_client_connect(path, 200, err, sizeof(err));	/* fills the backlog */
	CU_ASSERT_PTR_NOT_NULL(c);
	c2 = kapa_client_connect(path, 200, err, sizeof(err));
	CU_ASSERT_PTR_NULL(c2);
	CU_ASSERT_EQUAL(errno, ETIMEDOUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "did not accept the connection within 200 ms"));
	kapa_client_destroy(c);
	kapa_client_destroy(c2);
	close(fd);
}

/* Someone neither root nor in kapad's group: EACCES, and what to do. Root
 * tries it as nobody in a child; anyone else on a socket of mode 0. */
static void
test_connect_permission(void)
{
	char path[256], err[512];
	pid_t pid;
	int fd, status;

	sock_path(path, sizeof(path), "private.sock");
	fd = listen_at(path, 8);
	CU_ASSERT_FATAL(fd >= 0);
	chmod(path, 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct kapa_client *c;

		if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
				       setuid(65534) != 0))
			_exit(2);
		c = kapa_client_connect(path, 1000, err, sizeof(err));
		if (c != NULL || errno != EACCES)
			_exit(3);
		_exit(strstr(err, "Permission denied (kapad serves root and the members of its "
			     "group: run as root or as a member of the group named by group = in kapad's config)") != NULL ? 0 : 4);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	close(fd);
}

static int
client_suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kapactl-test-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
client_suite_clean(void)
{
	static const char *const names[] = { "dead.sock", "kapad.sock", "busy.sock", "private.sock" };
	char path[256];
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		sock_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

int
kapa_unit_register(void)
{
	CU_pSuite cmd = CU_add_suite("kapactl_cmdline", NULL, NULL);
	CU_pSuite out = CU_add_suite("kapactl_output", NULL, NULL);
	CU_pSuite cli = CU_add_suite("kapa_client", client_suite_init, client_suite_clean);

	if (cmd == NULL || out == NULL || cli == NULL)
		return -1;
	if (!CU_add_test(cmd, "every command's request", test_requests) ||
	    !CU_add_test(cmd, "global options", test_global_options) ||
	    !CU_add_test(cmd, "help", test_help) ||
	    !CU_add_test(cmd, "usage errors", test_usage_errors) ||
	    !CU_add_test(cmd, "usage text from the table", test_usage_text) ||
	    !CU_add_test(cmd, "hex of instructions", test_hex) ||
	    !CU_add_test(cmd, "program load", test_program_load) ||
	    !CU_add_test(out, "policy results", test_render_policy) ||
	    !CU_add_test(out, "status", test_render_status) ||
	    !CU_add_test(out, "conns", test_render_conns) ||
	    !CU_add_test(out, "durations", test_fmt_ms) ||
	    !CU_add_test(out, "stats", test_render_stats) ||
	    !CU_add_test(out, "counter groups", test_counter_groups) ||
	    !CU_add_test(out, "prometheus text", test_prometheus_text) ||
	    !CU_add_test(out, "promtool check metrics", test_promtool) ||
	    !CU_add_test(cli, "split and pipelined responses", test_client_split_and_pipelined) ||
	    !CU_add_test(cli, "response size bound", test_client_bounds) ||
	    !CU_add_test(cli, "request size bound", test_client_request_too_long) ||
	    !CU_add_test(cli, "timeout and eof", test_client_timeout_and_eof) ||
	    !CU_add_test(cli, "garbage", test_client_garbage) ||
	    !CU_add_test(cli, "connect", test_connect) ||
	    !CU_add_test(cli, "connect permission", test_connect_permission))
		return -1;
	return 0;
}
