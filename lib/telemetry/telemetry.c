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
 * The runtime directory (its creation, this user's own where another user owns dpdk/, the
 * instances' locks, the sweep of what dead programs left) is telemetry_rundir.c's. A named
 * --file-prefix has one instance; programs with the default prefix take the lowest free one,
 * instance N serving dpdk_telemetry.v2:N as DPDK 23.03 names it. With an instance's lock held, a
 * socket file that refuses connections was left by a dead program and is replaced; one that
 * accepts belongs to a live program (a DPDK program with the same prefix, say): hp_init fails
 * for a named prefix, takes the next instance for the default one.
 *
 * Locks: cmd_lock (lock level 15, doc/architecture.md) guards the command table (held only to
 * copy an entry out, never while a callback runs). Start and stop run under lib/eal's init_lock.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "eal/eal_internal.h"
#include "telemetry/telemetry_version.h"
#include "telemetry_internal.h"
#include "telemetry_rundir.h"

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
	pthread_t thread;
	bool thread_started;
	bool bound; /* the socket file at path is ours */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} srv = {.lfd = -1, .stopfd = -1};

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

/* lib/eal's lcores: the one library below telemetry, so telemetry answers for it. */
static int cmd_lcores(const char *cmd, const char *params, struct hp_telemetry_out *out, void *arg)
{
	(void)cmd, (void)params, (void)arg;
	hp_telemetry_open_obj(out, NULL);
	hp_telemetry_uint(out, "count", hp_lcore_count());
	hp_telemetry_uint(out, "max_lcores", HP_MAX_LCORES);
	hp_telemetry_open_array(out, "lcores");
	for (unsigned id = 0; id < HP_MAX_LCORES; id++) {
		int cpu = hp_lcore_cpu(id);

		if (cpu == -EINVAL) /* not in use */
			continue;
		hp_telemetry_open_obj(out, NULL);
		hp_telemetry_uint(out, "lcore", id);
		hp_telemetry_int(out, "cpu", cpu >= 0 ? cpu : -1); /* -1: no CPU of its own */
		hp_telemetry_close(out);
	}
	hp_telemetry_close(out);
	return hp_telemetry_close(out);
}

/* The protocol's own commands; every library registers its own from a constructor. */
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
	hp_telemetry_register_cmd("/hugepool/lcores", cmd_lcores,
				  "Returns the lcore ids in use and their CPUs (-1: a "
				  "registered thread). Takes no parameters",
				  NULL);
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

static int bind_socket(const char *prefix)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int pid;

	srv.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (srv.lfd < 0)
		return hp_fail(-errno, "telemetry: socket() failed (%s)", strerror(errno));
	memcpy(sun.sun_path, srv.path, strlen(srv.path) + 1);
	if (bind(srv.lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno != EADDRINUSE)
			return hp_fail(-errno, "telemetry: cannot bind %s (%s)", srv.path,
				       strerror(errno));
		if (lstat(srv.path, &st) == 0 && !S_ISSOCK(st.st_mode))
			return hp_fail(-EEXIST,
				       "telemetry: %s is a %s, not a socket: nothing of hugepool "
				       "or DPDK makes one there; remove it (it is in the "
				       "directory of the file prefix '%s'), or give this program "
				       "another --file-prefix",
				       srv.path,
				       S_ISDIR(st.st_mode)    ? "directory"
				       : S_ISLNK(st.st_mode)  ? "symbolic link"
				       : S_ISFIFO(st.st_mode) ? "FIFO"
							      : "file",
				       prefix);
		pid = rundir_live_pid(&sun);
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

/* Close everything; with owner, remove the socket, then the lock file and the directory. */
static void teardown(bool owner)
{
	if (srv.lfd >= 0) {
		if (owner && srv.bound)
			unlink(srv.path);
		close(srv.lfd);
	}
	if (srv.stopfd >= 0)
		close(srv.stopfd);
	rundir_release(owner);
	srv.lfd = srv.stopfd = -1;
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

/* The socket path of instance n in the prefix's directory dir. */
static int socket_path(char *buf, size_t len, const char *dir, unsigned n)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
	size_t k = n ? (size_t)snprintf(buf, len, "%s/%s:%u", dir, TELEMETRY_SOCKET_NAME, n)
		     : (size_t)snprintf(buf, len, "%s/%s", dir, TELEMETRY_SOCKET_NAME);

	if (k >= len || k >= max)
		return hp_fail(-ENAMETOOLONG,
			       "telemetry: the socket path %s/%s is longer than a unix socket "
			       "allows (%zu); set RUNTIME_DIRECTORY to a shorter directory (a "
			       "program may also start with --no-telemetry)",
			       dir, TELEMETRY_SOCKET_NAME, max - 1);
	return 0;
}

HP_API int hp_telemetry_socket_path(const char *prefix, char *buf, size_t len)
{
	char dir[PATH_MAX];
	size_t n;
	int rc;

	if (!buf)
		return hp_fail(-EINVAL, "hp_telemetry_socket_path: buf is NULL; pass a buffer");
	if (!prefix)
		prefix = "hugepool";
	rc = eal_file_prefix_check(prefix);
	if (rc)
		return rc;
	if (rundir_top(dir, sizeof(dir)) < 0)
		return hp_fail(-ENAMETOOLONG, "telemetry: the runtime directory %s is too long",
			       rundir_base());
	n = strlen(dir);
	snprintf(dir + n, sizeof(dir) - n, "/%s", prefix);
	return socket_path(buf, len, dir, 0);
}

static int telemetry_start(const struct hp_init_opts *o)
{
	const char *prefix = o->file_prefix ? o->file_prefix : "hugepool";
	/* the default prefix admits several programs, one instance each; a named one admits one */
	unsigned first = 0, last = o->file_prefix ? 1 : RUNDIR_INSTANCES, n = 0;
	char dir[PATH_MAX];
	int rc;

	if (o->no_telemetry)
		return 0;
	for (;;) {
		rc = hp_telemetry_socket_path(prefix, srv.path, sizeof(srv.path));
		if (!rc)
			rc = rundir_claim(prefix, first, last, &n, dir, sizeof(dir));
		if (rc == 1) { /* no directory of this user: run without a socket (logged) */
			srv.path[0] = '\0';
			return 0;
		}
		if (!rc)
			rc = socket_path(srv.path, sizeof(srv.path), dir, n);
		if (!rc)
			rc = bind_socket(prefix);
		if (rc == -EBUSY && n + 1 < last && rundir_held()) {
			/* a live DPDK program serves instance n's socket: the next instance */
			teardown(true);
			first = n + 1;
			continue;
		}
		break;
	}
	if (!rc)
		rc = start_thread();
	if (rc) {
		teardown(true);
		return rc;
	}
	if (n)
		HP_LOG_I("telemetry: instance %u of the file prefix '%s': %s (dpdk-telemetry.py -f "
			 "%s -i %u)",
			 n, prefix, srv.path, prefix, n);
	atomic_store(&serving, true);
	return 0;
}

static void telemetry_stop(void)
{
	uint64_t one = 1;

	if (!rundir_held() && srv.lfd < 0)
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
EAL_SUBSYS_REGISTER(telemetry, EAL_SUBSYS_TELEMETRY, telemetry_start, telemetry_stop)
