/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapad's INI configuration, read with libinih:
 *
 *   [kapad]
 *   socket = /run/kapa/kapad.sock
 *   group = kapa                 ; served besides root (none: root only)
 *   map_root = /sys/fs/bpf/kapa
 *   metrics = 127.0.0.1:9464     ; Prometheus /metrics (none: not served)
 *   log = stderr                 ; or syslog
 *   max_conns = 65536            ; kapa_conns, when kapad creates the maps
 *
 *   [defaults]                   ; servers no rule matches
 *   timeout = 60
 *   mode = enforce
 *
 *   [rule web]                   ; one section per rule, by name
 *   match = 198.18.0.0/15:80
 *   timeout = 30
 *   max = 100
 *   mode = advertise
 *
 * The spec keys (timeout, max, stall, opaque_idle, mode) are read by the same
 * grammar as kapa-dp's --policy, so the same values mean the same and fail
 * with the same message. Unknown sections and keys are errors.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapad.h"

void
kapad_config_defaults(struct kapad_config *c)
{
	struct kapa_policy_rule *rules = c->rules;

	memset(c, 0, sizeof(*c));
	c->rules = rules;
	snprintf(c->socket, sizeof(c->socket), "%s", KAPAD_SOCKET);
	snprintf(c->map_root, sizeof(c->map_root), "%s", KAPA_MAP_ROOT);
	c->max_conns = KAPA_CONNS_DEFAULT;
	c->def.mode = KAPA_MODE_OBSERVE;
}

struct parse {
	struct kapad_config *c;
	char section[128];	/* the section of the keys before */
	int rule;		/* index of the rule being read, -1: not a rule section */
	int have_match;
	unsigned seen;		/* the rule's keys read so far (bits of rule_keys[]) */
	char err[256];
};

static int
set_string(char *dst, size_t len, const char *v, const char *key, struct parse *p)
{
	if (strlen(v) >= len) {
		snprintf(p->err, sizeof(p->err), "%s: at most %zu characters", key, len - 1);
		return 0;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

/* A spec key into @p spec, through the --policy grammar. */
static int
spec_key(struct kapa_policy_spec *spec, const char *key, const char *value, struct parse *p)
{
	struct kapa_policy_spec one = *spec;
	char text[160];

	if (strchr(value, ',') != NULL) {
		snprintf(p->err, sizeof(p->err), "%s: one value per key", key);
		return 0;
	}
	snprintf(text, sizeof(text), "%s=%s", key, value);
	if (kapa_policy_parse_spec(text, &one, p->err, sizeof(p->err)) != 0)
		return 0;
	/* parse_spec starts from the defaults: take only this key. */
	if (strcmp(key, "timeout") == 0)
		spec->timeout_s = one.timeout_s;
	else if (strcmp(key, "max") == 0)
		spec->max = one.max;
	else if (strcmp(key, "stall") == 0)
		spec->stall_s = one.stall_s;
	else if (strcmp(key, "opaque_idle") == 0)
		spec->opaque_idle_s = one.opaque_idle_s;
	else if (strcmp(key, "mode") == 0)
		spec->mode = one.mode;
	return 1;
}

static int
kapad_key(struct kapad_config *c, const char *key, const char *value, struct parse *p)
{
	char *end;
	unsigned long long v;

	if (strcmp(key, "socket") == 0)
		return set_string(c->socket, sizeof(c->socket), value, key, p);
	if (strcmp(key, "group") == 0)
		return set_string(c->group, sizeof(c->group), value, key, p);
	if (strcmp(key, "map_root") == 0)
		return set_string(c->map_root, sizeof(c->map_root), value, key, p);
	if (strcmp(key, "metrics") == 0)
		return set_string(c->metrics, sizeof(c->metrics), value, key, p);
	if (strcmp(key, "log") == 0) {
		if (strcmp(value, "syslog") == 0 || strcmp(value, "stderr") == 0) {
			c->use_syslog = strcmp(value, "syslog") == 0;
			return 1;
		}
		snprintf(p->err, sizeof(p->err), "log: 'stderr' or 'syslog', not '%s'", value);
		return 0;
	}
	if (strcmp(key, "max_conns") == 0) {
		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v == 0 || v > UINT32_MAX / 2) {
			snprintf(p->err, sizeof(p->err), "max_conns: 1..%u, not '%s'", UINT32_MAX / 2,
				 value);
			return 0;
		}
		c->max_conns = (uint32_t)v;
		return 1;
	}
	snprintf(p->err, sizeof(p->err), "[kapad] has no key '%s' (socket, group, map_root, "
		 "metrics, log, max_conns)", key);
	return 0;
}

/* A new [rule NAME] section. */
static int
rule_start(struct parse *p, const char *name)
{
	struct kapad_config *c = p->c;
	uint32_t i;

	if (*name == '\0' || strlen(name) >= KAPA_POLICY_NAME_MAX) {
		snprintf(p->err, sizeof(p->err), "[rule NAME]: a name of 1..%d characters",
			 KAPA_POLICY_NAME_MAX - 1);
		return 0;
	}
	for (i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].name, name) == 0) {
			snprintf(p->err, sizeof(p->err), "rule '%s' is defined twice", name);
			return 0;
		}
	if (c->nrules == KAPA_MAX_RULES) {
		snprintf(p->err, sizeof(p->err), "at most %u rules", KAPA_MAX_RULES);
		return 0;
	}
	memset(&c->rules[c->nrules], 0, sizeof(c->rules[0]));
	snprintf(c->rules[c->nrules].name, sizeof(c->rules[0].name), "%s", name);
	p->rule = (int)c->nrules++;
	p->have_match = 0;
	p->seen = 0;
	return 1;
}

/* The rule section ended: it needs its match. */
static int
rule_end(struct parse *p)
{
	if (p->rule >= 0 && !p->have_match) {
		snprintf(p->err, sizeof(p->err), "rule '%s' has no match = PREFIX[:PORT]",
			 p->c->rules[p->rule].name);
		return 0;
	}
	p->rule = -1;
	return 1;
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	struct kapad_config *c = p->c;
	struct kapa_policy_rule *r;
	char name[KAPA_POLICY_NAME_MAX];

	if (strcmp(section, p->section) != 0) {
		if (!rule_end(p))
			return 0;
		snprintf(p->section, sizeof(p->section), "%s", section);
		if (strncmp(section, "rule ", 5) == 0 && !rule_start(p, section + 5))
			return 0;
		if (strcmp(section, "defaults") == 0)
			c->have_default = 1;
	}
	if (strcmp(section, "kapad") == 0)
		return kapad_key(c, key, value, p);
	if (strcmp(section, "defaults") == 0)
		return spec_key(&c->def, key, value, p);
	if (p->rule >= 0) {
		static const char *const rule_keys[] = {
			"match", "timeout", "max", "stall", "opaque_idle", "mode",
		};
		unsigned i;

		r = &c->rules[p->rule];
		/* inih joins two sections of one name: a key given twice is how
		 * a rule defined twice shows. */
		for (i = 0; i < sizeof(rule_keys) / sizeof(rule_keys[0]); i++)
			if (strcmp(key, rule_keys[i]) == 0)
				break;
		if (i < sizeof(rule_keys) / sizeof(rule_keys[0])) {
			if (p->seen & (1u << i)) {
				snprintf(p->err, sizeof(p->err), "rule '%s': '%s' given twice (a rule "
					 "is one section)", r->name, key);
				return 0;
			}
			p->seen |= 1u << i;
		}
		if (strcmp(key, "match") != 0)
			return spec_key(&r->spec, key, value, p);
		snprintf(name, sizeof(name), "%s", r->name);
		if (kapa_policy_parse_match(value, r, p->err, sizeof(p->err)) != 0)
			return 0;
		snprintf(r->name, sizeof(r->name), "%s", name);
		p->have_match = 1;
		return 1;
	}
	snprintf(p->err, sizeof(p->err), "unknown section [%s] ([kapad], [defaults], "
		 "[rule NAME])", section);
	return 0;
}

int
kapad_config_load(struct kapad_config *c, const char *path, char *err, size_t errlen)
{
	struct parse p = { .c = c, .rule = -1 };
	int line;

	line = ini_parse(path, handler, &p);
	if (line == 0 && !rule_end(&p))
		line = -2;
	if (line == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOENT));
		return -EINVAL;
	}
	if (line != 0) {
		if (line > 0)
			snprintf(err, errlen, "%s:%d: %s", path, line,
				 p.err[0] ? p.err : "not an INI line");
		else
			snprintf(err, errlen, "%s: %s", path, p.err);
		return -EINVAL;
	}
	return 0;
}
