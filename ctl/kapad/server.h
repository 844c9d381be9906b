/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control socket's loop (server.c): clients, signals (SIGTERM/SIGINT
 * stop, SIGHUP reloads the config file), systemd readiness.
 */
#ifndef KAPAD_SERVER_H
#define KAPAD_SERVER_H

#include <stddef.h>

#include "kapad.h"

/**
 * Serve the control socket until SIGTERM or SIGINT.
 * @return 0 after a signal, or -1 with @p err filled (the socket could not
 *         be served).
 */
int kapad_serve(struct kapad *k, char *err, size_t errlen);

#endif /* KAPAD_SERVER_H */
