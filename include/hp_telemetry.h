/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file hp_telemetry.h
 * The telemetry socket: a running program answers questions about its pools, rings, zones,
 * memory and lcores on a unix socket that speaks DPDK's telemetry v2 protocol, so that
 * dpdk-telemetry.py and the tools built for DPDK read it unmodified (doc/telemetry.md).
 * hp_init() starts it unless --no-telemetry is given; hp_cleanup() stops it.
 *
 * Each library of hugepool registers its own commands from a constructor, and a program may add
 * commands of its own the same way with hp_telemetry_register_cmd(). A command's
 * callback writes its reply with the hp_telemetry_* writer calls below; the reply is one JSON
 * value (object, array, string or number), sent as {"<command>": value}.
 */
#ifndef HP_TELEMETRY_H
#define HP_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hp_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest reply, in bytes (the hello's max_output_len; DPDK's value). */
#define HP_TELEMETRY_MAX_OUTPUT 16384
/** Longest command name, with its leading '/' (DPDK's limit). */
#define HP_TELEMETRY_CMD_LEN 56
/** Longest help text of a command. */
#define HP_TELEMETRY_HELP_LEN 128

/** A reply being written (opaque). */
struct hp_telemetry_out;

/**
 * A command's callback, run by the telemetry thread (one command at a time) with no lock of the
 * library held: it may call any public function, the walks included.
 * @param cmd the command, e.g. "/myapp/stats"
 * @param params what followed the first ',' of the request, or NULL
 * @param out the reply: write one value (an object, an array or a scalar with key NULL)
 * @param arg the arg given at registration
 * @return 0, or a negative errno: the reply then becomes a sentence naming the error, unless
 *         the callback already set one with hp_telemetry_error()
 */
typedef int (*hp_telemetry_cb_t)(const char *cmd, const char *params, struct hp_telemetry_out *out,
				 void *arg);

/**
 * Add a command. Works before hp_init() and while the socket runs; commands stay for the life
 * of the process.
 * @param cmd '/' then 1 to HP_TELEMETRY_CMD_LEN - 2 letters, digits, '_', '-' or '/'
 * @param fn callback
 * @param help one line for /help (at most HP_TELEMETRY_HELP_LEN - 1 characters), or NULL
 * @param arg passed to fn
 * @return 0, -EINVAL (bad name, NULL fn, help too long), -EEXIST (name taken),
 *         -ENOSPC (the table of commands is full)
 */
HP_API int hp_telemetry_register_cmd(const char *cmd, hp_telemetry_cb_t fn, const char *help,
				     void *arg);

/**
 * Register command cmd_ with callback fn_ (arg NULL) and help text help_ from a constructor, so
 * that it is listed from the program's start: one line per command, as each library of hugepool
 * registers its own. The result of the registration is dropped: pick names under a prefix of your
 * own, so that none is taken already.
 * @param fn_ the callback (an identifier: it names the constructor)
 * @param cmd_ the command, as for hp_telemetry_register_cmd()
 * @param help_ its help text, as for hp_telemetry_register_cmd()
 */
#define HP_TELEMETRY_CMD(fn_, cmd_, help_)                                                         \
	static void __attribute__((constructor)) hp_telemetry_cmd_##fn_(void)                      \
	{                                                                                          \
		hp_telemetry_register_cmd((cmd_), (fn_), (help_), NULL);                           \
	}

/**
 * Open an object: at the top of the reply (key NULL), inside an object (key names it) or
 * inside an array (key NULL). Close it with hp_telemetry_close().
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @return 0, -EINVAL (key given where none belongs or missing where one does, nesting deeper
 *         than 16, a value after the top-level one), -ENOSPC (the reply is full: left out)
 */
HP_API int hp_telemetry_open_obj(struct hp_telemetry_out *out, const char *key);

/**
 * Open an array (see hp_telemetry_open_obj() for key and the return values).
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @return 0, -EINVAL, -ENOSPC
 */
HP_API int hp_telemetry_open_array(struct hp_telemetry_out *out, const char *key);

/**
 * Close the innermost open object or array.
 * @param out the reply
 * @return 0, -EINVAL (nothing is open)
 */
HP_API int hp_telemetry_close(struct hp_telemetry_out *out);

/**
 * Write a signed integer.
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @param v the value
 * @return 0, -EINVAL, -ENOSPC (reply full: this value and the ones after it are left out, and
 *         an object reply gets a "truncated" member saying so)
 */
HP_API int hp_telemetry_int(struct hp_telemetry_out *out, const char *key, int64_t v);

/**
 * Write an unsigned integer (see hp_telemetry_int()).
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @param v the value
 * @return 0, -EINVAL, -ENOSPC
 */
HP_API int hp_telemetry_uint(struct hp_telemetry_out *out, const char *key, uint64_t v);

/**
 * Write a number with a fraction (printed with 6 significant digits).
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @param v the value (NaN and infinities are written as null)
 * @return 0, -EINVAL, -ENOSPC
 */
HP_API int hp_telemetry_double(struct hp_telemetry_out *out, const char *key, double v);

/**
 * Write a string (escaped as JSON needs).
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @param s the string; NULL is written as null
 * @return 0, -EINVAL, -ENOSPC
 */
HP_API int hp_telemetry_str(struct hp_telemetry_out *out, const char *key, const char *s);

/**
 * Write true or false.
 * @param out the reply
 * @param key member name inside an object, else NULL
 * @param v the value
 * @return 0, -EINVAL, -ENOSPC
 */
HP_API int hp_telemetry_bool(struct hp_telemetry_out *out, const char *key, bool v);

/**
 * Make the reply a sentence saying what went wrong (anything written so far is dropped).
 * Return a negative errno from the callback after it.
 * @param out the reply
 * @param fmt printf format of the sentence
 * @return -EINVAL, so that a callback may `return hp_telemetry_error(out, ...)`
 */
HP_API int hp_telemetry_error(struct hp_telemetry_out *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Read a command's parameter as a decimal id below max; else make the reply a sentence saying
 * which id the command needs and which command lists them (as hp_telemetry_error()).
 * @param out the reply
 * @param cmd the command, e.g. "/eal/memzone_info"
 * @param params the callback's params (NULL when the request had none)
 * @param what what the id names, for the sentence, e.g. "a zone id"
 * @param list the command that lists the ids, for the sentence, e.g. "/eal/memzone_list"
 * @param max ids are below it
 * @param id set to the id on success
 * @return 0, -EINVAL (no id, not a number, not below max: the reply is the sentence)
 */
HP_API int hp_telemetry_param_id(struct hp_telemetry_out *out, const char *cmd, const char *params,
				 const char *what, const char *list, unsigned max, unsigned *id);

/**
 * Check that a command's parameter is a name (not missing, not empty); else make the reply a
 * sentence saying which name the command needs and which command lists them (as
 * hp_telemetry_error()).
 * @param out the reply
 * @param cmd the command, e.g. "/ring/info"
 * @param params the callback's params (NULL when the request had none)
 * @param what what the name names, for the sentence, e.g. "a ring name"
 * @param list the command that lists the names, for the sentence, e.g. "/ring/list"
 * @return 0, -EINVAL (no name: the reply is the sentence; or out, cmd, what or list is NULL)
 */
HP_API int hp_telemetry_param_name(struct hp_telemetry_out *out, const char *cmd,
				   const char *params, const char *what, const char *list);

/**
 * Where a program of this user started with a file prefix serves its socket (whether it runs
 * or not): $RUNTIME_DIRECTORY, else /var/run for root, else $XDG_RUNTIME_DIR or /tmp; then
 * dpdk/PREFIX/dpdk_telemetry.v2, as DPDK's EAL and dpdk-telemetry.py -f PREFIX have it, or
 * dpdk-UID/PREFIX/dpdk_telemetry.v2 where another user owns dpdk (a shared /tmp). Programs
 * started at once with the default prefix serve instances 1, 2, ... at the path with ":N" added.
 * @param prefix the --file-prefix, or NULL for the default "hugepool"
 * @param buf filled with the path
 * @param len size of buf
 * @return 0, -EINVAL (NULL buf, or prefix breaks the rules of --file-prefix: 1 to 31 letters,
 *         digits, '_' or '-'), -ENAMETOOLONG (the path does not fit in len, or is longer than
 *         a unix socket allows)
 */
HP_API int hp_telemetry_socket_path(const char *prefix, char *buf, size_t len);

/**
 * @return the path of the socket this program serves, or NULL when none runs (before hp_init(),
 *         after hp_cleanup(), with --no-telemetry)
 */
HP_API const char *hp_telemetry_path(void);

#ifdef __cplusplus
}
#endif
#endif
