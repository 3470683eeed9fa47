/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime directory of a file prefix, <runtime dir>/dpdk/PREFIX, where the socket lives
 * (<runtime dir>/dpdk-UID where another user owns <runtime dir>/dpdk: see rundir_top()).
 * Ownership of an instance of a prefix: an flock on <dir>/hugepool.lock (instance 0) or
 * hugepool.lock:N, held for the program's life (the kernel drops it on kill -9); instance N
 * serves dpdk_telemetry.v2:N. Each start also removes the files of instances whose lock nobody
 * holds (programs killed with -9), and their directories once empty: see sweep_dead().
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
	int lockfd; /* the instance's lock file, flocked */
	char dir[PATH_MAX];
	char lockpath[PATH_MAX + sizeof(LOCK_NAME) + 16];
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

/* Whether path may hold this user's prefixes: absent, this user's directory, or root's and open. */
static bool dir_usable(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return false;
	return st.st_uid == geteuid() || (st.st_uid == 0 && access(path, W_OK | X_OK) == 0);
}

int rundir_top(char *buf, size_t len)
{
	const char *base = rundir_base();
	size_t n = (size_t)snprintf(buf, len, "%s/dpdk", base);

	if (n < len && !dir_usable(buf))
		n = (size_t)snprintf(buf, len, "%s/dpdk-%d", base, (int)geteuid());
	return n < len ? 0 : -ENAMETOOLONG;
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

/* Lock file of instance n of the prefix directory dir. */
static void lock_path(char *buf, size_t len, const char *dir, unsigned n)
{
	if (n)
		snprintf(buf, len, "%s/%s:%u", dir, LOCK_NAME, n);
	else
		snprintf(buf, len, "%s/%s", dir, LOCK_NAME);
}

/* Take instance n's lock: 0, or -EBUSY when a live program holds it. */
static int take_lock(const char *prefix, unsigned n)
{
	struct stat a, b;

	lock_path(rd.lockpath, sizeof(rd.lockpath), rd.dir, n);
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

/*
 * In prefix directory name: remove the lock file and the socket of each instance whose lock is
 * free (its program is gone), then the directory if that leaves it empty. A socket that answers
 * belongs to a live DPDK program sharing the prefix and stays.
 */
static void sweep_one(int dfd, const char *top, const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct dirent *e;
	struct stat st;
	int pfd, lfd, rfd;
	bool removed = false;
	DIR *d;

	pfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return;
	rfd = fstat(pfd, &st) == 0 && st.st_uid == geteuid() ? dup(pfd) : -1;
	d = rfd >= 0 ? fdopendir(rfd) : NULL;
	if (!d) {
		if (rfd >= 0)
			close(rfd);
		close(pfd);
		return;
	}
	while ((e = readdir(d))) {
		const char *suffix = e->d_name + strlen(LOCK_NAME);
		char sock[sizeof(TELEMETRY_SOCKET_NAME) + 16];

		/* hugepool.lock or hugepool.lock:N; no lock file: not a hugepool program's */
		if (strncmp(e->d_name, LOCK_NAME, strlen(LOCK_NAME)) ||
		    (*suffix && (*suffix != ':' || strlen(suffix) > 6)))
			continue;
		lfd = openat(pfd, e->d_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (lfd < 0)
			continue;
		snprintf(sock, sizeof(sock), "%s%s", TELEMETRY_SOCKET_NAME, suffix);
		if (flock(lfd, LOCK_EX | LOCK_NB) == 0 &&
		    (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s", top, name,
				     sock) < sizeof(sun.sun_path)) {
			if (rundir_live_pid(&sun) < 0)
				unlinkat(pfd, sock, 0);
			unlinkat(pfd, e->d_name, 0);
			removed = true;
		}
		close(lfd);
	}
	closedir(d);
	close(pfd);
	if (removed && unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		HP_LOG_I("telemetry: removed %s/%s, left by a program that is gone", top, name);
	else if (removed)
		HP_LOG_I("telemetry: removed what programs that are gone left in %s/%s", top, name);
}

/*
 * Sweep every prefix's directory, this program's too, of what dead hugepool programs left (see
 * sweep_one()); dfd is the top directory, flocked exclusive by the caller.
 */
static void sweep_dead(int dfd, const char *top)
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
		if (e->d_name[0] == '.')
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			sweep_one(dfd, top, e->d_name);
	}
	closedir(d);
}

/* Claim an instance from first to last - 1 of prefix in the top directory top. */
static int claim_in(const char *top, const char *prefix, unsigned first, unsigned last,
		    unsigned *instance)
{
	bool exclusive;
	int dfd, rc;

	if ((size_t)snprintf(rd.dir, sizeof(rd.dir), "%s/%s", top, prefix) >= sizeof(rd.dir))
		return hp_fail(-ENAMETOOLONG, "telemetry: %s/%s is too long", top, prefix);
	rc = make_dir(top);
	if (rc)
		return rc;
	dfd = lock_runtime_dir(top, &exclusive);
	if (exclusive)
		sweep_dead(dfd, top);
	rc = make_dir(rd.dir);
	for (unsigned n = first; !rc; n++) {
		rc = take_lock(prefix, n);
		if (!rc)
			*instance = n;
		if (rc != -EBUSY || n + 1 >= last)
			break;
		rc = 0; /* a live program holds instance n: the next one */
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* A top directory that another user owns, or that is not one: the other is tried. */
static bool not_ours(int rc)
{
	return rc == -EPERM || rc == -ENOTDIR || rc == -EACCES || rc == -ELOOP;
}

/* Why the top directory path cannot be this user's, in a few words. */
static void why_not(const char *path, int rc, char *buf, size_t len)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		snprintf(buf, len, "%s: %s", path, strerror(-rc));
	else if (S_ISLNK(st.st_mode))
		snprintf(buf, len, "%s is a symbolic link", path);
	else if (!S_ISDIR(st.st_mode))
		snprintf(buf, len, "%s is not a directory", path);
	else if (st.st_uid != geteuid())
		snprintf(buf, len, "%s belongs to uid %d", path, (int)st.st_uid);
	else
		snprintf(buf, len, "%s: %s", rd.dir, strerror(-rc));
}

int rundir_claim(const char *prefix, unsigned first, unsigned last, unsigned *instance, char *dir,
		 size_t len)
{
	const char *base = rundir_base();
	char top[2][PATH_MAX], why[PATH_MAX + 64], why2[PATH_MAX + 64];
	int rc;

	snprintf(top[0], sizeof(top[0]), "%s/dpdk", base);
	snprintf(top[1], sizeof(top[1]), "%s/dpdk-%d", base, (int)geteuid());
	rc = claim_in(top[0], prefix, first, last, instance);
	if (!not_ours(rc))
		goto done;
	/* a shared /tmp where another user made dpdk first: a directory only this user owns */
	why_not(top[0], rc, why, sizeof(why));
	rc = claim_in(top[1], prefix, first, last, instance);
	if (!rc)
		HP_LOG_W("telemetry: %s; this program serves its socket in %s instead (hp-info "
			 "--live finds it; dpdk-telemetry.py looks only in %s: set "
			 "XDG_RUNTIME_DIR for it)",
			 why, rd.dir, top[0]);
	else if (not_ours(rc)) {
		/* a program never fails to start for its telemetry: it runs without a socket */
		why_not(top[1], rc, why2, sizeof(why2));
		HP_LOG_W("telemetry: %s, and %s; this program runs without a telemetry socket: "
			 "set XDG_RUNTIME_DIR or RUNTIME_DIRECTORY to a directory of this user",
			 why, why2);
		return 1;
	}
done:
	if (!rc)
		snprintf(dir, len, "%s", rd.dir);
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
		/* only if empty: other instances, or a DPDK program, may share the directory */
		rmdir(rd.dir);
	}
	close(rd.lockfd);
	rd.lockfd = -1;
}
