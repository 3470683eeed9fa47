/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry socket, DPDK telemetry v2 protocol: a SOCK_SEQPACKET unix socket at
 * <runtime dir>/dpdk/<file-prefix>/dpdk_telemetry.v2 (runtime dir: $RUNTIME_DIRECTORY, else
 * /var/run for root, else $XDG_RUNTIME_DIR or /tmp: where dpdk-telemetry.py looks). A client
 * gets a hello {"version","pid","max_output_len"}, then sends "/command[,params]" messages and
 * gets one {"/command": value} message for each.
 *
 * One thread serves every client: it sleeps in poll() until a client connects or speaks, so it
 * costs nothing while nobody asks. Commands read what the public API reads and take no lock
 * that a get or put takes. Clients of another uid (root aside) are refused (SO_PEERCRED).
 *
 * Ownership of a prefix: an flock on <dir>/hugepool.lock, held for the program's life (the
 * kernel drops it on kill -9). With it held, a socket file that refuses connections was left
 * by a dead program and is replaced; one that accepts belongs to a live program (a DPDK program
 * with the same prefix, say) and hp_init fails. Each start also removes the directories of other
 * prefixes whose lock nobody holds (programs killed with -9): see sweep_dead().
 *
 * Locks: cmd_lock guards the command table (held only to copy an entry out, never while a
 * callback runs). Start and stop run under lib/eal's init_lock (subsystem hooks).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "eal/eal_internal.h"
#include "telemetry/telemetry_version.h"
#include "telemetry_internal.h"

#define SOCKET_NAME "dpdk_telemetry.v2"
#define LOCK_NAME "hugepool.lock"
#define MAX_CMDS 128
#define MAX_CLIENTS 16 /* DPDK allows 10 at once; later ones are closed at once */
#define REQUEST_LEN 1024

struct cmd {
	char name[HP_TELEMETRY_CMD_LEN];
	char help[HP_TELEMETRY_HELP_LEN];
	hp_telemetry_cb_t fn;
	void *arg;
};

static pthread_mutex_t cmd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmd cmds[MAX_CMDS];
static unsigned n_cmds;

static struct {
	int lfd;    /* listening socket */
	int stopfd; /* eventfd: the thread's signal to stop */
	int lockfd; /* the prefix's lock file, flocked */
	pthread_t thread;
	bool thread_started;
	bool bound; /* the socket file at path is ours */
	char dir[PATH_MAX];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lockpath[PATH_MAX + sizeof(LOCK_NAME) + 1];
} srv = {.lfd = -1, .stopfd = -1, .lockfd = -1};

static _Atomic bool serving; /* srv.path is valid (hp_telemetry_path) */

/* ---- commands ---------------------------------------------------------------------------- */

static bool valid_name(const char *cmd)
{
	size_t len;

	if (!cmd || cmd[0] != '/')
		return false;
	len = strlen(cmd);
	if (len < 2 || len >= HP_TELEMETRY_CMD_LEN)
		return false;
	return strspn(cmd + 1,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/") ==
	       len - 1;
}

/* Add a command to the sorted table: 0, or -EEXIST / -ENOSPC through hp_fail(). */
static int add_cmd(const char *cmd, hp_telemetry_cb_t fn, const char *help, void *arg)
{
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&cmd_lock);
	for (i = 0; i < n_cmds && strcmp(cmds[i].name, cmd); i++)
		;
	if (i < n_cmds)
		rc = hp_fail(-EEXIST, "telemetry: command %s exists already; pick another name",
			     cmd);
	else if (n_cmds == MAX_CMDS)
		rc = hp_fail(-ENOSPC, "telemetry: the table of %d commands is full", MAX_CMDS);
	if (!rc) {
		/* keep the table sorted, as "/" lists it */
		for (i = n_cmds; i > 0 && strcmp(cmds[i - 1].name, cmd) > 0; i--)
			cmds[i] = cmds[i - 1];
		snprintf(cmds[i].name, sizeof(cmds[i].name), "%s", cmd);
		snprintf(cmds[i].help, sizeof(cmds[i].help), "%s", help ? help : "");
		cmds[i].fn = fn;
		cmds[i].arg = arg;
		n_cmds++;
	}
	pthread_mutex_unlock(&cmd_lock);
	return rc;
}

HP_API int hp_telemetry_register_cmd(const char *cmd, hp_telemetry_cb_t fn, const char *help,
				     void *arg)
{
	if (!valid_name(cmd))
		return hp_fail(
		    -EINVAL,
		    "telemetry: command '%.80s' is not '/' then 1 to %d letters, digits, "
		    "'_', '-' or '/'",
		    cmd ? cmd : "(null)", HP_TELEMETRY_CMD_LEN - 2);
	if (!fn)
		return hp_fail(-EINVAL, "telemetry: command %s has no callback; pass a function",
			       cmd);
	if (help && strlen(help) >= HP_TELEMETRY_HELP_LEN)
		return hp_fail(-EINVAL,
			       "telemetry: help of %s has more than %d characters; shorten it", cmd,
			       HP_TELEMETRY_HELP_LEN - 1);
	return add_cmd(cmd, fn, help, arg);
}

static bool find_cmd(const char *name, struct cmd *out)
{
	bool found = false;

	pthread_mutex_lock(&cmd_lock);
	for (unsigned i = 0; i < n_cmds && !found; i++)
		if (!strcmp(cmds[i].name, name)) {
			*out = cmds[i];
			found = true;
		}
	pthread_mutex_unlock(&cmd_lock);
	return found;
}

static int cmd_list(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	char name[HP_TELEMETRY_CMD_LEN];
	unsigned i = 0;
	bool more = true;

	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_array(out, NULL);
	while (more) { /* one name at a time: no lock while writing */
		pthread_mutex_lock(&cmd_lock);
		more = i < n_cmds;
		if (more)
			snprintf(name, sizeof(name), "%s", cmds[i++].name);
		pthread_mutex_unlock(&cmd_lock);
		if (more)
			hp_telemetry_str(out, NULL, name);
	}
	return hp_telemetry_close(out);
}

static int cmd_help(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	struct cmd c;

	(void)arg;
	if (!params || !params[0]) { /* as DPDK: /help alone describes itself */
		find_cmd(cmd, &c);
		return hp_telemetry_str(out, NULL, c.help);
	}
	if (!find_cmd(params, &c))
		return hp_telemetry_error(out, "no command '%.60s'; send / for the list", params);
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, c.name, c.help);
	return hp_telemetry_close(out);
}

static int cmd_info(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_str(out, "version", TELEMETRY_VERSION);
	hp_telemetry_int(out, "pid", getpid());
	hp_telemetry_int(out, "max_output_len", HP_TELEMETRY_MAX_OUTPUT);
	return hp_telemetry_close(out);
}

static void __attribute__((constructor)) telemetry_builtins(void)
{
	add_cmd("/", cmd_list,
		"Returns list of available commands. Takes no "
		"parameters",
		NULL);
	hp_telemetry_register_cmd("/help", cmd_help,
				  "Returns help text for a command. Parameters: "
				  "string command",
				  NULL);
	hp_telemetry_register_cmd("/info", cmd_info,
				  "Returns telemetry information (version, pid, "
				  "max_output_len). Takes no parameters",
				  NULL);
	telemetry_cmds_register();
}

/* Answer one request: "/command" or "/command,params". */
static void answer(struct hp_telemetry_out *out, char *req)
{
	char *comma = strchr(req, ',');
	const char *params = NULL;
	struct cmd c;
	int rc;

	if (comma) {
		*comma = '\0';
		params = comma + 1;
	}
	telemetry_out_start(out, req);
	if (strlen(req) >= HP_TELEMETRY_CMD_LEN || !find_cmd(req, &c)) {
		hp_telemetry_error(out, "unknown command '%.60s'; send / for the list of commands",
				   req);
	} else {
		rc = c.fn(c.name, params, out, c.arg);
		if (rc < 0 && !out->error)
			hp_telemetry_error(out, "%s failed: %s", c.name, strerror(-rc));
	}
	telemetry_out_finish(out);
}

/* ---- the thread ---------------------------------------------------------------------------- */

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == geteuid() || cred.uid == 0;
}

static int hello(int fd)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "{\"version\":\"%s\",\"pid\":%d,\"max_output_len\":%d}",
			 TELEMETRY_VERSION, (int)getpid(), HP_TELEMETRY_MAX_OUTPUT);

	return send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n ? 0 : -1;
}

static void accept_one(struct pollfd *pfd, unsigned *n)
{
	int fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (!peer_allowed(fd)) {
		HP_LOG_I("telemetry: refused a client of another user (only uid %d and root may "
			 "connect)",
			 (int)geteuid());
		close(fd);
		return;
	}
	if (*n == MAX_CLIENTS + 2 || hello(fd) < 0) {
		close(fd);
		return;
	}
	pfd[*n].fd = fd;
	pfd[*n].events = POLLIN;
	(*n)++;
}

/* Read one request from a client and answer it; false when the client is gone or stuck. */
static bool serve_one(int fd, struct hp_telemetry_out *out)
{
	char req[REQUEST_LEN];
	ssize_t r = recv(fd, req, sizeof(req) - 1, MSG_DONTWAIT);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR;
	if (r == 0)
		return false;
	req[r] = '\0';
	req[strcspn(req, "\n")] = '\0'; /* a client that ends its line: not part of the command */
	answer(out, req);
	/* a client that does not read its replies is dropped, never waited for */
	return send(fd, out->buf, out->len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)out->len;
}

static void *server(void *arg)
{
	struct pollfd pfd[MAX_CLIENTS + 2];
	struct hp_telemetry_out *out = arg;
	unsigned n = 2, i;

	pfd[0] = (struct pollfd){.fd = srv.stopfd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = srv.lfd, .events = POLLIN};
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			HP_LOG_E("telemetry: poll failed (%s); the socket stops answering",
				 strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		for (i = 2; i < n;) {
			if (pfd[i].revents && !serve_one(pfd[i].fd, out)) {
				close(pfd[i].fd);
				pfd[i] = pfd[--n];
				continue;
			}
			i++;
		}
		if (pfd[1].revents & POLLIN)
			accept_one(pfd, &n);
	}
	for (i = 2; i < n; i++)
		close(pfd[i].fd);
	free(out);
	return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

/* Where dpdk-telemetry.py looks for the directories of the prefixes. */
static const char *runtime_dir(void)
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
		int fd = open(srv.lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return hp_fail(-errno, "telemetry: cannot open %s (%s)", srv.lockpath,
				       strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return hp_fail(
			    -EBUSY,
			    "telemetry: another running program uses the file prefix "
			    "'%s' (it holds %s); give this one another --file-prefix, as "
			    "two DPDK primaries need, or start it with --no-telemetry",
			    prefix, srv.lockpath);
		}
		/* a lock on a file that its owner unlinked meanwhile locks nothing: retry */
		if (fstat(fd, &a) == 0 && stat(srv.lockpath, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			srv.lockfd = fd;
			return 0;
		}
		close(fd);
	}
	return hp_fail(-EBUSY,
		       "telemetry: %s keeps changing; is another program starting with "
		       "the file prefix '%s'?",
		       srv.lockpath, prefix);
}

/* The pid in the hello of the program that serves path, or 0. */
static int live_pid(const struct sockaddr_un *sun)
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
 * starting in. Order: this lock, then a prefix's lock file. Neither is held while the program
 * runs. Returns the flocked directory's fd (-1: none, the start goes on without) and whether it
 * is exclusive.
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
			     SOCKET_NAME) < sizeof(sun.sun_path)) {
		/* a socket that answers belongs to a live DPDK program sharing the prefix */
		if (live_pid(&sun) < 0)
			unlinkat(pfd, SOCKET_NAME, 0);
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

static int bind_socket(const char *prefix)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int pid;

	srv.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (srv.lfd < 0)
		return hp_fail(-errno, "telemetry: socket() failed (%s)", strerror(errno));
	memcpy(sun.sun_path, srv.path, strlen(srv.path) + 1);
	if (bind(srv.lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno != EADDRINUSE)
			return hp_fail(-errno, "telemetry: cannot bind %s (%s)", srv.path,
				       strerror(errno));
		pid = live_pid(&sun);
		if (pid >= 0)
			return hp_fail(-EBUSY,
				       "telemetry: a live program (pid %d) serves %s: it uses the "
				       "file prefix '%s'; give this one another --file-prefix, or "
				       "start it with --no-telemetry",
				       pid, srv.path, prefix);
		/* connection refused: left by a program that died without hp_cleanup() */
		HP_LOG_I("telemetry: replacing %s, left by a program that is gone", srv.path);
		unlink(srv.path);
		if (bind(srv.lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			return hp_fail(-errno, "telemetry: cannot bind %s (%s)", srv.path,
				       strerror(errno));
	}
	srv.bound = true;
	if (listen(srv.lfd, 8) < 0)
		return hp_fail(-errno, "telemetry: listen on %s failed (%s)", srv.path,
			       strerror(errno));
	return 0;
}

/* Close everything; with owner, remove the socket, the lock file and the directory if empty. */
static void teardown(bool owner)
{
	if (srv.lfd >= 0) {
		if (owner && srv.bound)
			unlink(srv.path);
		close(srv.lfd);
	}
	if (srv.stopfd >= 0)
		close(srv.stopfd);
	if (srv.lockfd >= 0) {
		if (owner) {
			unlink(srv.lockpath);
			rmdir(srv.dir); /* only if empty: a DPDK program may share the directory */
		}
		close(srv.lockfd);
	}
	srv.lfd = srv.stopfd = srv.lockfd = -1;
	srv.thread_started = false;
	srv.bound = false;
	srv.path[0] = '\0';
}

/* A forked child does not own the parent's socket: forget it without removing anything. */
static void atfork_child(void)
{
	atomic_store(&serving, false);
	teardown(false);
}

static int start_thread(void)
{
	struct hp_telemetry_out *out = malloc(sizeof(*out));
	sigset_t all, old;
	int rc;

	if (!out)
		return hp_fail(-ENOMEM, "telemetry: out of memory for the reply buffer");
	srv.stopfd = eventfd(0, EFD_CLOEXEC);
	if (srv.stopfd < 0) {
		free(out);
		return hp_fail(-errno, "telemetry: eventfd failed (%s)", strerror(errno));
	}
	/* the thread takes no signal: the program's handlers run in its own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&srv.thread, NULL, server, out);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		free(out);
		return hp_fail(-rc, "telemetry: cannot start its thread (%s)", strerror(rc));
	}
	pthread_setname_np(srv.thread, "hp-telemetry");
	srv.thread_started = true;
	return 0;
}

HP_API int hp_telemetry_socket_path(const char *prefix, char *buf, size_t len)
{
	size_t n;

	if (!buf)
		return hp_fail(-EINVAL, "hp_telemetry_socket_path: buf is NULL; pass a buffer");
	n = (size_t)snprintf(buf, len, "%s/dpdk/%s/%s", runtime_dir(), prefix ? prefix : "hugepool",
			     SOCKET_NAME);
	if (n >= len || n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return hp_fail(-ENAMETOOLONG,
			       "telemetry: the socket path %s/dpdk/%s/%s is longer than a unix "
			       "socket allows (%zu); set RUNTIME_DIRECTORY to a shorter directory "
			       "or start with --no-telemetry",
			       runtime_dir(), prefix ? prefix : "hugepool", SOCKET_NAME,
			       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return 0;
}

static int telemetry_start(const struct hp_init_opts *o)
{
	const char *prefix = o->file_prefix ? o->file_prefix : "hugepool";
	const char *rd = runtime_dir();
	char dpdk_dir[PATH_MAX];
	int rc;

	if (o->no_telemetry)
		return 0;
	rc = hp_telemetry_socket_path(prefix, srv.path, sizeof(srv.path));
	if (rc) {
		srv.path[0] = '\0';
		return rc;
	}
	snprintf(dpdk_dir, sizeof(dpdk_dir), "%s/dpdk", rd);
	snprintf(srv.dir, sizeof(srv.dir), "%s/dpdk/%s", rd, prefix);
	snprintf(srv.lockpath, sizeof(srv.lockpath), "%s/%s", srv.dir, LOCK_NAME);
	rc = make_dir(dpdk_dir);
	if (!rc) {
		bool exclusive;
		int dfd = lock_runtime_dir(dpdk_dir, &exclusive);

		if (exclusive)
			sweep_dead(dfd, dpdk_dir, prefix);
		rc = make_dir(srv.dir);
		if (!rc)
			rc = take_lock(prefix);
		if (dfd >= 0)
			close(dfd);
	}
	if (!rc)
		rc = bind_socket(prefix);
	if (!rc)
		rc = start_thread();
	if (rc) {
		teardown(true);
		return rc;
	}
	atomic_store(&serving, true);
	return 0;
}

static void telemetry_stop(void)
{
	uint64_t one = 1;

	if (srv.lockfd < 0 && srv.lfd < 0)
		return;
	atomic_store(&serving, false);
	if (srv.thread_started) {
		if (write(srv.stopfd, &one, sizeof(one)) != sizeof(one))
			HP_LOG_E("telemetry: cannot wake its thread (%s)", strerror(errno));
		pthread_join(srv.thread, NULL);
	}
	teardown(true);
}

HP_API const char *hp_telemetry_path(void)
{
	return atomic_load(&serving) ? srv.path : NULL;
}

static void __attribute__((constructor)) telemetry_atfork(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* Last to start, first to stop: commands may read every other subsystem while it runs. */
static struct eal_subsys telemetry_subsys = {
    .name = "telemetry",
    .order = 90,
    .init = telemetry_start,
    .cleanup = telemetry_stop,
};
EAL_SUBSYS_REGISTER(telemetry_subsys)
