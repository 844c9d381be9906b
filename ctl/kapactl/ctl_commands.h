/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapactl's command line: the global options, the command table (one entry
 * per OBJECT VERB with its arguments, help, the request it builds and the
 * renderer of its result), and the help generated from that table.
 * Turning a command line into a request needs no socket, so the tests check
 * the exact request of every command.
 */
#ifndef CTL_COMMANDS_H
#define CTL_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl_render.h"

/** How kapactl waits for kapad unless --timeout says otherwise. */
#define CTL_TIMEOUT_DEFAULT_MS 10000

/** What an argument's value is, and how it goes into the request. */
enum ctl_arg_kind {
	CTL_ARG_STRING,		/**< a non-empty string */
	CTL_ARG_UINT,		/**< a whole number in [min, max] */
	CTL_ARG_MODE,		/**< observe, enforce or advertise */
	CTL_ARG_CONN_ID,	/**< W/SLOT/GEN, sent as the string */
	CTL_ARG_PROGRAM,	/**< an eBPF object: sent as `name` and `instructions` */
	CTL_ARG_FLAG,		/**< an option without a value: `true` */
	CTL_ARG_PROMETHEUS,	/**< an option without a value that only changes the output */
};

/** One argument of a command. */
struct ctl_arg {
	const char *name;	/**< "--match", or a positional's placeholder ("NAME") */
	const char *metavar;	/**< an option's value placeholder ("PREFIX[:PORT]"), else NULL */
	const char *key;	/**< its key in the request's `args` (NULL: not sent) */
	enum ctl_arg_kind kind;
	int required;		/**< options only: positionals are always required */
	unsigned long min, max;	/**< CTL_ARG_UINT's range */
	const char *help;	/**< what it means */
};

/** One command: OBJECT [VERB]. */
struct ctl_cmd {
	const char *object;
	const char *verb;	/**< NULL: the object alone is the command (status, conns, stats) */
	const char *cmd;	/**< the protocol's command (docs/control-protocol.md) */
	const struct ctl_arg *args;	/**< ended by an entry whose name is NULL */
	const char *help;	/**< what it does */
	ctl_render_fn *render;	/**< its result for people */
};

/** Everything a command line says. */
struct ctl_cmdline {
	const char *socket;	/**< -s, or KAPA_SOCKET_DEFAULT */
	int json;		/**< -j */
	int timeout_ms;		/**< --timeout, for the connect and for the response */
	int prometheus;		/**< stats --prometheus */
	const struct ctl_cmd *cmd;	/**< the command (NULL for help) */
	const char *object;	/**< the object whose usage to print (NULL: all) */
	json_t *req;		/**< the request to send (NULL for help) */
	int errnum;		/**< CTL_CMDLINE_FAILED: why, as an errno */
};

/** What ctl_cmdline_parse() found. */
enum ctl_cmdline_result {
	CTL_CMDLINE_RUN,	/**< send cl->req, render with cl->cmd */
	CTL_CMDLINE_HELP,	/**< print the usage of cl->object (all: NULL), exit 0 */
	CTL_CMDLINE_USAGE,	/**< a usage error: the message, the usage of cl->object, exit 2 */
	CTL_CMDLINE_FAILED,	/**< well formed, but could not be done (a program file), exit 1 */
};

/**
 * Parse `kapactl [-s PATH] [-j] [--timeout S] OBJECT VERB ...` (@p argv[0]
 * is the program's name). Global options come before OBJECT: after it,
 * options are the command's (`policy add --timeout` is the rule's).
 * @param cl   filled; release with ctl_cmdline_clear()
 * @param err  the usage error or failure, when there is one
 */
enum ctl_cmdline_result ctl_cmdline_parse(int argc, char *const argv[], struct ctl_cmdline *cl,
					  char *err, size_t errlen);

/** Release what ctl_cmdline_parse() allocated. */
void ctl_cmdline_clear(struct ctl_cmdline *cl);

/**
 * The usage generated from the command table: of one @p object (its
 * commands, their arguments and meanings), or of everything (NULL).
 */
void ctl_usage(FILE *out, const char *object);

/**
 * @p n bytes as lowercase hex into @p out (room for 2n + 1 characters),
 * in their order: an eBPF instruction's 8 bytes are 16 digits.
 */
void ctl_hex_encode(const void *bytes, size_t n, char *out);

/** The command table, ended by an entry whose object is NULL. */
extern const struct ctl_cmd ctl_cmds[];

#endif /* CTL_COMMANDS_H */
