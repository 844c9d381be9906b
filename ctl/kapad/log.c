/* SPDX-License-Identifier: BSD-3-Clause */
/* kapad's log: stderr (under systemd, the journal takes it) or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "kapad.h"

static int to_syslog;

void
kapad_log_open(int use_syslog)
{
	to_syslog = use_syslog;
	if (to_syslog)
		openlog("kapad", LOG_PID, LOG_DAEMON);
}

void
kapad_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fprintf(stderr, "kapad: %s", prio <= LOG_ERR ? "error: " :
			prio == LOG_WARNING ? "warning: " : "");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
