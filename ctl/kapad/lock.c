/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One kapad per map root. kapa_publish writes the rule set and the program
 * as the only publisher (kapa_publish.h): two kapads on one map root, each
 * with its own socket, would overwrite each other's generations. So kapad
 * holds an flock on a file named after the map root for its whole life, as
 * kapa-dp does for its side (dataplane/dp/main.c, lock_map_root(): the same
 * directory and naming, "kapad" for "kapa-dp"). The kernel drops the lock
 * when the process dies, also by kill -9, so a restart is never refused by a
 * dead predecessor. The holder writes its pid into the file, so that the
 * refusal can name it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "kapad.h"

int
kapad_lock_map_root(const char *dir, const char *root, char *err, size_t errlen)
{
	char path[512], pid[32], *p;
	ssize_t n;
	int fd, e;

	/* /run/kapa/kapad_sys_fs_bpf_kapa.lock for /sys/fs/bpf/kapa */
	snprintf(path, sizeof(path), "%s/kapad%s.lock", dir, root);
	for (p = path + strlen(dir) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		e = errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
		return -e;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		if (e != EWOULDBLOCK) {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
			close(fd);
			return -e;
		}
		/* The holder's pid, if it has written it yet. */
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another kapad (%s%s) publishes into the maps under %s (it "
			 "holds %s): stop it first, or give this one its own map_root",
			 pid[0] != '\0' ? "pid " : "pid unknown", pid, root, path);
		close(fd);
		return -EBUSY;
	}
	/* Ours: our pid in it, for the next one's message. */
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		e = errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}
