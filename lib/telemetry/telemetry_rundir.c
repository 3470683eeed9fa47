/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime directory of a file prefix, <runtime dir>/dpdk/PREFIX, where the socket lives.
 * Ownership of a prefix: an flock on <dir>/hugepool.lock, held for the program's life (the
 * kernel drops it on kill -9). Each start also removes the directories of other prefixes whose
 * lock nobody holds (programs killed with -9): see sweep_dead().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eal/eal_internal.h"
#include "telemetry_rundir.h"

#define LOCK_NAME "hugepool.lock"

static struct {
	int lockfd; /* the prefix's lock file, flocked */
	char dir[PATH_MAX];
	char lockpath[PATH_MAX + sizeof(LOCK_NAME) + 1];
} rd = {.lockfd = -1};

const char *rundir_base(void)
{
	const char *d = secure_getenv("RUNTIME_DIRECTORY");

	if (d && d[0])
		return d;
	if (getuid() == 0)
		return "/var/run";
	d = secure_getenv("XDG_RUNTIME_DIR");
	return d && d[0] ? d : "/tmp";
}

/* mkdir path 0700 unless it is there; then it must be a directory of ours (or root's). */
static int make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return hp_fail(-errno,
			       "telemetry: cannot create %s (%s); start with --no-telemetry, or "
			       "set RUNTIME_DIRECTORY to a directory you may write",
			       path, strerror(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return hp_fail(-ENOTDIR,
			       "telemetry: %s is not a directory; remove it or start with "
			       "--no-telemetry",
			       path);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return hp_fail(-EPERM,
			       "telemetry: %s belongs to uid %d, not to this user; use another "
			       "--file-prefix or start with --no-telemetry",
			       path, (int)st.st_uid);
	return 0;
}

/* Take the prefix's lock: 0, or -EBUSY when a live program holds it. */
static int take_lock(const char *prefix)
{
	struct stat a, b;

	for (int tries = 0; tries < 8; tries++) {
		int fd = open(rd.lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return hp_fail(-errno, "telemetry: cannot open %s (%s)", rd.lockpath,
				       strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return hp_fail(
			    -EBUSY,
			    "telemetry: another running program uses the file prefix "
			    "'%s' (it holds %s); give this one another --file-prefix, as "
			    "two DPDK primaries need, or start it with --no-telemetry",
			    prefix, rd.lockpath);
		}
		/* a lock on a file that its owner unlinked meanwhile locks nothing: retry */
		if (fstat(fd, &a) == 0 && stat(rd.lockpath, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			rd.lockfd = fd;
			return 0;
		}
		close(fd);
	}
	return hp_fail(-EBUSY,
		       "telemetry: %s keeps changing; is another program starting with "
		       "the file prefix '%s'?",
		       rd.lockpath, prefix);
}

int rundir_live_pid(const struct sockaddr_un *sun)
{
	char buf[256];
	struct pollfd p;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), pid = 0;
	const char *at;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		pid = errno == ECONNREFUSED || errno == ENOENT ? -1 : 0;
		close(fd);
		return pid;
	}
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 1000) == 1) {
		ssize_t r = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

		buf[r > 0 ? r : 0] = '\0';
		at = strstr(buf, "\"pid\":");
		if (at)
			pid = atoi(at + 6);
	}
	close(fd);
	return pid;
}

/*
 * <runtime dir>/dpdk is flocked while a program starts, from make_dir() of its prefix until it
 * holds the prefix's lock: exclusive for the one that gets it at once (it sweeps, see
 * sweep_dead()), shared for the others, so a sweep never removes a directory that a program is
 * starting in. This lock and the prefix's lock file: lock levels 17 and 18, doc/architecture.md.
 * This one is not held while the program runs. Returns the flocked directory's fd (-1: none, the
 * start goes on without) and whether it is exclusive.
 */
static int lock_runtime_dir(const char *dpdk_dir, bool *exclusive)
{
	int fd = open(dpdk_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*exclusive = false;
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		*exclusive = true;
		return fd;
	}
	/* a sweep holds it for a few milliseconds; one stopped in a debugger is not waited for */
	for (int i = 0; i < 2000; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return fd;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	close(fd);
	return -1;
}

/* Remove prefix directory name if a hugepool program left it and is gone: its lock is free. */
static void sweep_one(int dfd, const char *dpdk_dir, const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int pfd, lfd;

	pfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return;
	if (fstat(pfd, &st) < 0 || st.st_uid != geteuid())
		goto out;
	lfd = openat(pfd, LOCK_NAME, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0)
		goto out; /* no lock file: not a hugepool program's directory */
	if (flock(lfd, LOCK_EX | LOCK_NB) == 0 &&
	    (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s", dpdk_dir, name,
			     TELEMETRY_SOCKET_NAME) < sizeof(sun.sun_path)) {
		/* a socket that answers belongs to a live DPDK program sharing the prefix */
		if (rundir_live_pid(&sun) < 0)
			unlinkat(pfd, TELEMETRY_SOCKET_NAME, 0);
		unlinkat(pfd, LOCK_NAME, 0);
		if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
			HP_LOG_I("telemetry: removed %s/%s, left by a program that is gone",
				 dpdk_dir, name);
	}
	close(lfd);
out:
	close(pfd);
}

/*
 * Sweep every other prefix's directory left by a dead hugepool program (see sweep_one()); dfd is
 * <runtime dir>/dpdk, flocked exclusive by the caller.
 */
static void sweep_dead(int dfd, const char *dpdk_dir, const char *self)
{
	int rfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0); /* closedir() closes it; dfd keeps the flock */
	struct dirent *e;
	DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;

	if (!d) {
		if (rfd >= 0)
			close(rfd);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0)
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			sweep_one(dfd, dpdk_dir, e->d_name);
	}
	closedir(d);
}

int rundir_claim(const char *prefix)
{
	const char *base = rundir_base();
	char dpdk_dir[PATH_MAX];
	bool exclusive;
	int dfd, rc;

	snprintf(dpdk_dir, sizeof(dpdk_dir), "%s/dpdk", base);
	snprintf(rd.dir, sizeof(rd.dir), "%s/dpdk/%s", base, prefix);
	snprintf(rd.lockpath, sizeof(rd.lockpath), "%s/%s", rd.dir, LOCK_NAME);
	rc = make_dir(dpdk_dir);
	if (rc)
		return rc;
	dfd = lock_runtime_dir(dpdk_dir, &exclusive);
	if (exclusive)
		sweep_dead(dfd, dpdk_dir, prefix);
	rc = make_dir(rd.dir);
	if (!rc)
		rc = take_lock(prefix);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

bool rundir_held(void)
{
	return rd.lockfd >= 0;
}

void rundir_release(bool owner)
{
	if (rd.lockfd < 0)
		return;
	if (owner) {
		unlink(rd.lockpath);
		rmdir(rd.dir); /* only if empty: a DPDK program may share the directory */
	}
	close(rd.lockfd);
	rd.lockfd = -1;
}
