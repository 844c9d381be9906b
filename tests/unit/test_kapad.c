/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapad without root: its config file (ctl/kapad/config.c) and the request
 * checks of the control protocol (ctl/kapad/commands.c): malformed lines,
 * unknown commands and arguments, bad values, each answered with an error
 * naming the problem, and rule validation (duplicate matches, names, ranges)
 * before anything reaches the maps. The maps are plain memory here (no rules
 * map: the success paths of publishing run in the 'ctl' suite, as root).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "commands.h"
#include "kapa_publish.h"
#include "unit.h"

static struct kapad k;
static char err[512];
static char path[64];

static int
suite_init(void)
{
	k.maps.ctl = calloc(1, sizeof(*k.maps.ctl));
	k.maps.stats = calloc(KAPA_MAX_WORKERS, sizeof(*k.maps.stats));
	k.maps.hist = calloc(KAPA_MAX_WORKERS, sizeof(*k.maps.hist));
	k.maps.prog = calloc(1, sizeof(*k.maps.prog));
	k.maps.conns = calloc(16, sizeof(*k.maps.conns));
	k.maps.max_conns = 16;
	k.maps.rules_fd = -1;
	k.rules = calloc(KAPA_MAX_RULES, sizeof(*k.rules));
	k.conf.rules = calloc(KAPA_MAX_RULES, sizeof(*k.conf.rules));
	kapad_config_defaults(&k.conf);
	kapad_log_open(1);
	snprintf(path, sizeof(path), "/tmp/test_kapad_%d.ini", (int)getpid());
	return k.maps.ctl && k.maps.stats && k.maps.hist && k.maps.prog && k.maps.conns &&
	       k.rules && k.conf.rules ? 0 : -1;
}

static int
suite_fini(void)
{
	unlink(path);
	return 0;
}

/* Load @p text as a config file into a fresh config. */
static int
load(const char *text, struct kapad_config *c)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -EIO;
	fputs(text, f);
	fclose(f);
	kapad_config_defaults(c);
	return kapad_config_load(c, path, err, sizeof(err));
}

static void
test_config(void)
{
	struct kapad_config c = { .rules = calloc(KAPA_MAX_RULES, sizeof(*c.rules)) };

	CU_ASSERT_PTR_NOT_NULL_FATAL(c.rules);
	CU_ASSERT_EQUAL(load("[kapad]\nsocket = /tmp/k.sock\ngroup = kapa\nmetrics = 127.0.0.1:9464\n"
			     "log = syslog\nmax_conns = 1000\n"
			     "[defaults]\ntimeout = 60\nmode = enforce\n"
			     "[rule web]\nmatch = 198.18.0.0/15:80\ntimeout = 30\nmax = 100\n"
			     "mode = advertise\n"
			     "[rule v6]\nmatch = [2001:db8::/32]:443\nopaque_idle = 600\n", &c), 0);
	CU_ASSERT_STRING_EQUAL(c.socket, "/tmp/k.sock");
	CU_ASSERT_STRING_EQUAL(c.group, "kapa");
	CU_ASSERT_STRING_EQUAL(c.metrics, "127.0.0.1:9464");
	CU_ASSERT_EQUAL(c.use_syslog, 1);
	CU_ASSERT_EQUAL(c.max_conns, 1000);
	CU_ASSERT_EQUAL(c.have_default, 1);
	CU_ASSERT_EQUAL(c.def.timeout_s, 60);
	CU_ASSERT_EQUAL(c.def.mode, KAPA_MODE_ENFORCE);
	CU_ASSERT_EQUAL_FATAL(c.nrules, 2);
	CU_ASSERT_STRING_EQUAL(c.rules[0].name, "web");
	CU_ASSERT_EQUAL(c.rules[0].port, 80);
	CU_ASSERT_EQUAL(c.rules[0].prefix_len, 15);
	CU_ASSERT_EQUAL(c.rules[0].spec.timeout_s, 30);
	CU_ASSERT_EQUAL(c.rules[0].spec.max, 100);
	CU_ASSERT_EQUAL(c.rules[0].spec.mode, KAPA_MODE_ADVERTISE);
	CU_ASSERT_EQUAL(c.rules[1].family, 6);
	CU_ASSERT_EQUAL(c.rules[1].spec.opaque_idle_s, 600);

	/* Each mistake named, with its line. */
	CU_ASSERT_EQUAL(load("[kapad]\nbogus = 1\n", &c), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: [kapad] has no key 'bogus'"));
	CU_ASSERT_EQUAL(load("[other]\nx = 1\n", &c), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown section [other]"));
	CU_ASSERT_EQUAL(load("[rule a]\ntimeout = 5\n", &c), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "rule 'a' has no match"));
	CU_ASSERT_EQUAL(load("[rule a]\nmatch = 10.0.0.0/8\n[rule a]\nmatch = 10.0.0.0/9\n", &c),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "given twice"));
	CU_ASSERT_EQUAL(load("[rule a]\nmatch = 10.0.0.0/8\n[rule b]\nmatch = 10.0.0.0/9\n"
			     "[rule a]\nmatch = 10.0.0.0/10\n", &c), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "defined twice"));
	CU_ASSERT_EQUAL(load("[defaults]\ntimeout = soon\n", &c), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2:"));
	CU_ASSERT_EQUAL(load("[defaults]\nmode = strict\n", &c), -EINVAL);
	CU_ASSERT_EQUAL(load("[rule a]\nmatch = 10.0.0.1/8\n", &c), -EINVAL);	/* host bits */
	CU_ASSERT_EQUAL(load("[kapad]\nlog = journal\n", &c), -EINVAL);
	CU_ASSERT_EQUAL(load("[kapad]\nmax_conns = 0\n", &c), -EINVAL);
	CU_ASSERT_EQUAL(load("not an ini line\n", &c), -EINVAL);
	CU_ASSERT_EQUAL(kapad_config_load(&c, "/nonexistent/kapad.ini", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
	free(c.rules);
}

/* One request line; @return the response's error code, or "" when ok. */
static const char *
request(const char *line)
{
	static char code[32];
	struct kapad_pending p;
	json_t *r = kapad_request(&k, line, strlen(line), &p);
	json_t *c;

	if (r == NULL) {
		kapad_pending_drop(&k, &p);
		return "pending";
	}
	CU_ASSERT(json_is_boolean(json_object_get(r, "ok")));
	c = json_object_get(r, "code");
	snprintf(code, sizeof(code), "%s", json_is_string(c) ? json_string_value(c) : "");
	c = json_object_get(r, "error");
	snprintf(err, sizeof(err), "%s", json_is_string(c) ? json_string_value(c) : "");
	json_decref(r);
	return code;
}

static void
test_requests(void)
{
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"status\"}"), "");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.list\",\"args\":{}}"), "");
	CU_ASSERT_STRING_EQUAL(request("not json"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a JSON object"));
	CU_ASSERT_STRING_EQUAL(request("[1,2]"), "EINVAL");
	/* invalid UTF-8, which jansson's error quotes: still an answer */
	CU_ASSERT_STRING_EQUAL(request("{\"cm\xdd\x96\x9b\"cmd\":7}"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a JSON object"));
	CU_ASSERT_STRING_EQUAL(request("{\"id\":1}"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'cmd'"));
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.drop\"}"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown command 'policy.drop'"));
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"status\",\"args\":[]}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"status\",\"cmd\":\"stats\"}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.show\",\"args\":{\"name\":\"a\","
				       "\"extra\":1}}"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown argument 'extra'"));
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.show\",\"args\":{\"name\":\"a\"}}"),
			       "ENOENT");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.show\",\"args\":{\"name\":5}}"), "EINVAL");
	/* Rule checks before anything is published. */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.add\",\"args\":{\"name\":\"w\","
				       "\"match\":\"198.18.0.0/33\"}}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.add\",\"args\":{\"name\":\"w\","
				       "\"match\":\"198.18.0.0/15\",\"timeout\":-1}}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.add\",\"args\":{\"name\":\"w\","
				       "\"match\":\"198.18.0.0/15\",\"mode\":\"strict\"}}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.add\",\"args\":{\"name\":\"\","
				       "\"match\":\"198.18.0.0/15\"}}"), "EINVAL");
	/* A good rule reaches the maps: here there are none to write. */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.add\",\"args\":{\"name\":\"w\","
				       "\"match\":\"198.18.0.0/15\",\"timeout\":30}}"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "writing rule slot 0"));
	CU_ASSERT_EQUAL(k.nrules, 0);
	/* Connections and programs. */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"conns\",\"args\":{\"limit\":100000}}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"conn.close\",\"args\":{\"id\":\"1/2\"}}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"conn.close\",\"args\":{\"id\":\"0/2/1\"}}"),
			       "ENOTCONN");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"program.load\",\"args\":{\"name\":\"p\","
				       "\"instructions\":\"b70000000000000\"}}"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"program.load\",\"args\":{\"name\":\"p\","
				       "\"instructions\":\"zz00000000000000\"}}"), "EINVAL");
	/* r0 unset, then exit: the verifier's no, before anything is published */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"program.load\",\"args\":{\"name\":\"p\","
				       "\"instructions\":\"9500000000000000\"}}"), "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "verifier"));
	/* ... in the verifier's own words, not only "Invalid argument" */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "undefined return value at pc: 0"));
	CU_ASSERT_EQUAL(k.maps.ctl->prog_gen, 0);
	/* r0 = 0; exit: published (no data plane attached: answered now) */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"program.load\",\"args\":{\"name\":\"p\","
				       "\"instructions\":\"b7000000000000009500000000000000\"}}"), "");
	CU_ASSERT_EQUAL(k.maps.ctl->prog_gen, 1);
	CU_ASSERT_STRING_EQUAL(k.maps.prog->name, "p");
	/* an unload: the next generation, without instructions */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"program.unload\"}"), "");
	CU_ASSERT_EQUAL(k.maps.ctl->prog_gen, 2);
	CU_ASSERT_EQUAL(k.maps.prog->n_ins, 0);
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"program.load\",\"args\":{\"name\":\"p\","
				       "\"instructions\":\"b7000000000000009500000000000000\"}}"), "");
	CU_ASSERT_EQUAL(k.maps.ctl->prog_gen, 3);
}

/* A rule into k's set in force, as if published. */
static void
in_force(const char *name, const char *match, uint32_t timeout)
{
	struct kapa_policy_rule *r = &k.rules[k.nrules];

	memset(r, 0, sizeof(*r));
	CU_ASSERT_EQUAL_FATAL(kapa_policy_parse_match(match, r, err, sizeof(err)), 0);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->spec.timeout_s = timeout;
	k.nrules++;
}

static int
merged_has(const struct kapa_policy_rule *rules, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(rules[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * A reload: the rules the file gave and no longer has are deleted, those
 * added through the socket stay, and an unchanged file publishes nothing.
 * No rules map here: a publication with rules fails ("writing rule slot"),
 * which is how the test sees that one was tried.
 */
static void
test_reload(void)
{
	struct kapa_policy_rule *merged = calloc(KAPA_MAX_RULES, sizeof(*merged));
	struct kapa_policy_spec def;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(merged);
	/* In force (generation 5): "cli" from policy add, "old" and "kept" from the file. */
	k.nrules = 0;
	in_force("cli", "10.1.0.0/16", 1);
	in_force("old", "10.2.0.0/16", 2);
	in_force("kept", "10.3.0.0/16", 3);
	k.rules_gen = 5;
	memset(&k.def, 0, sizeof(k.def));
	k.def.timeout_s = 75;
	k.def_from_file = 1;
	snprintf(k.file_rules[0], sizeof(k.file_rules[0]), "old");
	snprintf(k.file_rules[1], sizeof(k.file_rules[1]), "kept");
	k.nfile_rules = 2;

	/* The same file again: the same set, nothing published. */
	CU_ASSERT_EQUAL_FATAL(load("[defaults]\ntimeout = 75\n[rule kept]\nmatch = 10.3.0.0/16\n"
				   "timeout = 3\n[rule old]\nmatch = 10.2.0.0/16\ntimeout = 2\n",
				   &k.conf), 0);
	n = kapad_config_merge(&k, &def, merged, err, sizeof(err));
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(kapad_rules_same(&k, &def, merged, (uint32_t)n));	/* in another order */
	CU_ASSERT_EQUAL(kapad_apply_config(&k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.rules_gen, 5);

	/* [rule old] removed: old goes, cli (the socket's) and kept stay. */
	CU_ASSERT_EQUAL_FATAL(load("[defaults]\ntimeout = 75\n[rule kept]\nmatch = 10.3.0.0/16\n"
				   "timeout = 3\n", &k.conf), 0);
	n = kapad_config_merge(&k, &def, merged, err, sizeof(err));
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(merged_has(merged, n, "cli"));
	CU_ASSERT(merged_has(merged, n, "kept"));
	CU_ASSERT(!merged_has(merged, n, "old"));
	CU_ASSERT(!kapad_rules_same(&k, &def, merged, (uint32_t)n));
	/* ... so it is published (and here fails: no rules map), changing nothing. */
	CU_ASSERT_NOT_EQUAL(kapad_apply_config(&k, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "writing rule slot"));
	CU_ASSERT_EQUAL(k.rules_gen, 5);
	CU_ASSERT_EQUAL(k.nrules, 3);
	CU_ASSERT_EQUAL(k.nfile_rules, 2);

	/* A rule of the file changed, or a new one: published. */
	CU_ASSERT_EQUAL_FATAL(load("[defaults]\ntimeout = 75\n[rule kept]\nmatch = 10.3.0.0/16\n"
				   "timeout = 4\n[rule old]\nmatch = 10.2.0.0/16\ntimeout = 2\n",
				   &k.conf), 0);
	n = kapad_config_merge(&k, &def, merged, err, sizeof(err));
	CU_ASSERT(!kapad_rules_same(&k, &def, merged, (uint32_t)n));
	/* The file's rule replaces the socket's of the same name. */
	CU_ASSERT_EQUAL_FATAL(load("[defaults]\ntimeout = 75\n[rule kept]\nmatch = 10.3.0.0/16\n"
				   "timeout = 3\n[rule old]\nmatch = 10.2.0.0/16\ntimeout = 2\n"
				   "[rule cli]\nmatch = 10.1.0.0/16\ntimeout = 9\n", &k.conf), 0);
	n = kapad_config_merge(&k, &def, merged, err, sizeof(err));
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(merged[0].spec.timeout_s, 9);

	/* [defaults] removed: the file's default goes back to the built-in one;
	 * a default that was not the file's stays. */
	CU_ASSERT_EQUAL_FATAL(load("[rule kept]\nmatch = 10.3.0.0/16\ntimeout = 3\n"
				   "[rule old]\nmatch = 10.2.0.0/16\ntimeout = 2\n", &k.conf), 0);
	n = kapad_config_merge(&k, &def, merged, err, sizeof(err));
	CU_ASSERT_EQUAL(def.timeout_s, 0);
	CU_ASSERT_EQUAL(def.mode, KAPA_MODE_OBSERVE);
	k.def_from_file = 0;
	n = kapad_config_merge(&k, &def, merged, err, sizeof(err));
	CU_ASSERT_EQUAL(def.timeout_s, 75);
	CU_ASSERT(kapad_rules_same(&k, &def, merged, (uint32_t)n));

	/* Nothing published yet and a file without policy: nothing published
	 * (kapa-dp's command line stays in force). */
	k.nrules = 0;
	k.rules_gen = 0;
	k.nfile_rules = 0;
	CU_ASSERT_EQUAL_FATAL(load("[kapad]\nlog = stderr\n", &k.conf), 0);
	CU_ASSERT_EQUAL(kapad_apply_config(&k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.maps.ctl->rules_gen, 0);
	kapad_config_defaults(&k.conf);
	memset(&k.def, 0, sizeof(k.def));
	free(merged);
}

/* policy.default: shown, checked as policy.add's specs, published (no rules:
 * the maps' memory is enough), and not again when unchanged. */
static void
test_policy_default(void)
{
	const char *show = "{\"cmd\":\"policy.default\"}";
	struct kapad_pending p;
	json_t *r, *def;

	k.nrules = 0;
	k.rules_gen = 0;
	memset(&k.def, 0, sizeof(k.def));
	k.def_from_file = 1;
	r = kapad_request(&k, show, strlen(show), &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	def = json_object_get(json_object_get(r, "result"), "default");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(def, "mode")), "observe");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(r, "result"),
							   "generation")), 0);
	json_decref(r);
	CU_ASSERT_EQUAL(k.maps.ctl->rules_gen, 0);	/* showing publishes nothing */

	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"timeout\":-1}}"),
			       "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"timeout\":1728001}}"),
			       "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"mode\":\"strict\"}}"),
			       "EINVAL");
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"name\":\"x\"}}"),
			       "EINVAL");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown argument 'name'"));
	CU_ASSERT_EQUAL(k.maps.ctl->rules_gen, 0);

	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"timeout\":75,"
				       "\"mode\":\"enforce\"}}"), "");
	CU_ASSERT_EQUAL(k.maps.ctl->rules_gen, 1);
	CU_ASSERT_EQUAL(k.maps.ctl->rules_default.timeout_s, 75);
	CU_ASSERT_EQUAL(k.maps.ctl->rules_default.mode, KAPA_MODE_ENFORCE);
	CU_ASSERT_EQUAL(k.def.timeout_s, 75);
	CU_ASSERT_EQUAL(k.def_from_file, 0);	/* the socket's now */
	/* The same again: nothing published. */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"mode\":\"enforce\","
				       "\"timeout\":75}}"), "");
	CU_ASSERT_EQUAL(k.maps.ctl->rules_gen, 1);
	/* Omitted keys are 0 / observe: the whole spec is replaced. */
	CU_ASSERT_STRING_EQUAL(request("{\"cmd\":\"policy.default\",\"args\":{\"max\":9}}"), "");
	CU_ASSERT_EQUAL(k.maps.ctl->rules_gen, 2);
	CU_ASSERT_EQUAL(k.def.timeout_s, 0);
	CU_ASSERT_EQUAL(k.def.max, 9);
	CU_ASSERT_EQUAL(k.def.mode, KAPA_MODE_OBSERVE);
	memset(k.maps.ctl, 0, sizeof(*k.maps.ctl));
	memset(&k.def, 0, sizeof(k.def));
	k.rules_gen = 0;
}

/* conns: idle_over keeps connections idle for at least S seconds (kapactl's
 * help says so); total counts those that passed it, before limit. */
static void
test_conns_filter(void)
{
	const char *line = "{\"cmd\":\"conns\",\"args\":{\"idle_over\":5,\"limit\":1}}";
	uint64_t now = kapa_now_ns(), s = 1000000000ull;
	static const uint64_t idle[] = { 4, 6, 60, 5 };	/* seconds, 5: just past 5 s */
	struct kapad_pending p;
	json_t *r, *res;
	unsigned i;

	memset(k.maps.conns, 0, 16 * sizeof(*k.maps.conns));
	for (i = 0; i < 4; i++) {
		struct kapa_conn_rec *c = &k.maps.conns[i];

		c->state = KAPA_REC_ESTABLISHED;
		c->family = 4;
		c->slot = i;
		c->first_seen_ns = now - 100 * s;
		/* idle 5 s plus what runs between here and kapad's clock */
		c->last_seen_ns = now - idle[i] * s;
	}
	r = kapad_request(&k, line, strlen(line), &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	res = json_object_get(r, "result");
	/* 6, 60 and the one idle exactly 5 s (and a hair) pass; 4 does not */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "total")), 3);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "conns")), 1);	/* limit 1 */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
		json_array_get(json_object_get(res, "conns"), 0), "id")), "0/2/0");	/* longest idle */
	json_decref(r);
	memset(k.maps.conns, 0, 16 * sizeof(*k.maps.conns));
}

/* One kapad per map root: a second lock on the same root is refused, naming
 * the holder's pid; another root is not; the lock goes with its holder.
 * (flock: two open()s conflict also within one process.) */
static void
test_lock(void)
{
	char dir[64], want[64], lock[160];
	int a, b, c;

	snprintf(dir, sizeof(dir), "/tmp/test_kapad_lock_%d", (int)getpid());
	a = kapad_lock_map_root(dir, "/sys/fs/bpf/kapa", err, sizeof(err));
	CU_ASSERT_FATAL(a >= 0);
	snprintf(lock, sizeof(lock), "%s/kapad_sys_fs_bpf_kapa.lock", dir);
	CU_ASSERT_EQUAL(access(lock, F_OK), 0);	/* kapa-dp's naming, "kapad" for "kapa-dp" */
	b = kapad_lock_map_root(dir, "/sys/fs/bpf/kapa", err, sizeof(err));
	CU_ASSERT_EQUAL(b, -EBUSY);
	snprintf(want, sizeof(want), "another kapad (pid %d)", (int)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/sys/fs/bpf/kapa"));
	c = kapad_lock_map_root(dir, "/sys/fs/bpf/kapa-other", err, sizeof(err));
	CU_ASSERT(c >= 0);
	close(a);
	b = kapad_lock_map_root(dir, "/sys/fs/bpf/kapa", err, sizeof(err));
	CU_ASSERT(b >= 0);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	unlink(lock);
	snprintf(lock, sizeof(lock), "%s/kapad_sys_fs_bpf_kapa-other.lock", dir);
	unlink(lock);
	rmdir(dir);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("kapad", suite_init, suite_fini);

	if (s == NULL ||
	    CU_add_test(s, "config file", test_config) == NULL ||
	    CU_add_test(s, "requests checked", test_requests) == NULL ||
	    CU_add_test(s, "reload: the file's rules, and only when changed", test_reload) == NULL ||
	    CU_add_test(s, "policy.default", test_policy_default) == NULL ||
	    CU_add_test(s, "one kapad per map root", test_lock) == NULL ||
	    CU_add_test(s, "conns: idle_over is at least, total before limit",
			test_conns_filter) == NULL)
		return -1;
	return 0;
}
