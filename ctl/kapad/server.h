/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control socket's loop (server.c): clients, signals (SIGTERM/SIGINT
 * stop, SIGHUP reloads the config file), systemd readiness.
 */
#ifndef KAPAD_SERVER_H
#define KAPAD_SERVER_H

#include <signal.h>
#include <stddef.h>

#include "kapad.h"

/**
 * Block SIGTERM, SIGINT and SIGHUP (read through a signalfd by the loop)
 * and ignore SIGPIPE. Before any thread starts (libmicrohttpd's): a thread
 * that does not block them would take them and die of them.
 */
void kapad_block_signals(sigset_t *mask);

/**
 * Serve the control socket until SIGTERM or SIGINT.
 * @return 0 after a signal, or -1 with @p err filled (the socket could not
 *         be served).
 */
int kapad_serve(struct kapad *k, char *err, size_t errlen);

#endif /* KAPAD_SERVER_H */
