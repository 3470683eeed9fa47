/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reply writer: compact JSON into one fixed buffer of HP_TELEMETRY_MAX_OUTPUT bytes, the
 * most a client reads in one message. A value that does not fit is left out, and so is every
 * value after it (DPDK leaves out what does not fit too, but may then fit a smaller value that
 * comes later; a prefix is easier to read). An object reply then ends with a "truncated" member
 * saying how many values were left out; the containers still close, so the reply stays valid.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal/eal_internal.h"
#include "telemetry_internal.h"

/* Room kept for the "truncated" member of an object reply. */
#define NOTE_RESERVE 96

/* Append n bytes if they fit with the reserve; false (nothing written) otherwise. */
static bool put(struct hp_telemetry_out *o, const char *s, size_t n)
{
	if (o->len + n + o->reserve > HP_TELEMETRY_MAX_OUTPUT)
		return false;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return true;
}

static bool put_c(struct hp_telemetry_out *o, char c)
{
	return put(o, &c, 1);
}

/*
 * Bytes of the well-formed UTF-8 character at s (1 to 4), or 0 when s starts no such character
 * (a stray continuation byte, an overlong form, a surrogate, a sequence cut short or past
 * U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * A JSON string: quotes, escapes for '"', '\\' and control characters, and U+FFFD in place of
 * each byte that is not part of well-formed UTF-8, so a reply is valid JSON whatever bytes a
 * request, a name or a sentence held. Every string of a reply is written here.
 */
static bool put_str(struct hp_telemetry_out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];

	if (!put_c(o, '"'))
		return false;
	while (*s) {
		size_t n = utf8_len(s);
		bool ok;

		if (n == 0) {
			ok = put(o, "\\ufffd", 6);
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			ok = put(o, esc, 2);
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			ok = put(o, esc, 6);
		} else {
			ok = put(o, (const char *)s, n);
		}
		if (!ok)
			return false;
		s += n;
	}
	return put_c(o, '"');
}

void telemetry_out_start(struct hp_telemetry_out *o, const char *cmd)
{
	char name[HP_TELEMETRY_CMD_LEN + 1];

	o->len = 0;
	o->reserve = 1; /* the final '}' */
	o->depth = 0;
	o->skipped_depth = 0;
	o->top_done = false;
	o->full = false;
	o->dropped = 0;
	o->error = false;
	o->why[0] = '\0';
	snprintf(name, sizeof(name), "%s", cmd ? cmd : "");
	put_c(o, '{');
	put_str(o, name);
	put_c(o, ':');
	o->value_at = o->len;
}

/* Where the next value goes: checks the key against the container; writes ',' and the key. */
static int begin(struct hp_telemetry_out *o, const char *key, bool *wrote)
{
	*wrote = false;
	if (o->depth == 0) {
		if (o->top_done || o->skipped_depth)
			return hp_fail(-EINVAL, "telemetry: the reply has its one value already; "
						"open an object or array first to write several");
		if (key)
			return hp_fail(-EINVAL, "telemetry: the reply's top value has no key; "
						"pass key NULL");
	} else if ((o->stack[o->depth - 1].type == '{') != (key != NULL)) {
		return hp_fail(-EINVAL, key ? "telemetry: a value in an array has no key; pass "
					      "key NULL"
					    : "telemetry: a value in an object needs a key");
	}
	if (o->full || o->error || o->skipped_depth)
		return -ENOSPC;
	if (o->depth && !o->stack[o->depth - 1].first && !put_c(o, ','))
		return -ENOSPC;
	*wrote = true;
	if (key && !(put_str(o, key) && put_c(o, ':')))
		return -ENOSPC;
	return 0;
}

/* After a value was written whole. */
static void written(struct hp_telemetry_out *o)
{
	if (o->depth)
		o->stack[o->depth - 1].first = false;
	else
		o->top_done = true;
}

static int left_out(struct hp_telemetry_out *o, size_t mark, int rc)
{
	o->len = mark;
	if (rc == -ENOSPC && !o->error) {
		o->full = true;
		o->dropped++;
	}
	return rc;
}

static int scalar(struct hp_telemetry_out *o, const char *key, const char *text, bool quote)
{
	size_t mark;
	bool wrote;
	int rc;

	if (!o)
		return hp_fail(-EINVAL, "telemetry: out is NULL; pass the reply the callback got");
	mark = o->len;
	rc = begin(o, key, &wrote);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0 && !(quote ? put_str(o, text) : put(o, text, strlen(text))))
		rc = -ENOSPC;
	if (rc)
		return left_out(o, mark, rc);
	written(o);
	return 0;
}

static int open_container(struct hp_telemetry_out *o, const char *key, char type)
{
	size_t mark, extra;
	bool wrote;
	int rc;

	if (!o)
		return hp_fail(-EINVAL, "telemetry: out is NULL; pass the reply the callback got");
	if (o->depth + o->skipped_depth >= TELEMETRY_MAX_DEPTH)
		return hp_fail(-EINVAL, "telemetry: objects and arrays nest %d deep at most",
			       TELEMETRY_MAX_DEPTH);
	mark = o->len;
	rc = begin(o, key, &wrote);
	if (rc == -EINVAL)
		return rc;
	/* room for its closer, and for the note if it is the reply's top object */
	extra = 1 + (o->depth == 0 && type == '{' ? NOTE_RESERVE : 0);
	if (rc == 0 && o->len + 1 + extra + o->reserve > HP_TELEMETRY_MAX_OUTPUT)
		rc = -ENOSPC;
	if (rc == 0)
		put_c(o, type);
	if (rc) {
		left_out(o, mark, rc);
		o->skipped_depth++;
		return rc;
	}
	if (o->depth)
		o->stack[o->depth - 1].first = false;
	o->reserve += extra;
	o->stack[o->depth].type = type;
	o->stack[o->depth].first = true;
	o->stack[o->depth].open = true;
	o->depth++;
	return 0;
}

HP_API int hp_telemetry_open_obj(struct hp_telemetry_out *out, const char *key)
{
	return open_container(out, key, '{');
}

HP_API int hp_telemetry_open_array(struct hp_telemetry_out *out, const char *key)
{
	return open_container(out, key, '[');
}

HP_API int hp_telemetry_close(struct hp_telemetry_out *o)
{
	char note[NOTE_RESERVE + 1];
	char type;
	int n;

	if (!o)
		return hp_fail(-EINVAL, "telemetry: out is NULL; pass the reply the callback got");
	if (o->skipped_depth) {
		o->skipped_depth--;
		return 0;
	}
	if (o->depth == 0)
		return hp_fail(-EINVAL, "telemetry: nothing is open to close");
	type = o->stack[--o->depth].type;
	o->reserve -= 1;
	if (o->depth == 0 && type == '{') {
		o->reserve -= NOTE_RESERVE;
		if (o->dropped) {
			n = snprintf(note, sizeof(note),
				     "%s\"truncated\":\"%u values left out: a reply is at most %d "
				     "bytes\"",
				     o->stack[0].first ? "" : ",", o->dropped,
				     HP_TELEMETRY_MAX_OUTPUT);
			put(o, note, (size_t)n);
		}
	}
	put_c(o, type == '{' ? '}' : ']');
	if (o->depth == 0)
		o->top_done = true;
	return 0;
}

HP_API int hp_telemetry_int(struct hp_telemetry_out *out, const char *key, int64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%lld", (long long)v);
	return scalar(out, key, t, false);
}

HP_API int hp_telemetry_uint(struct hp_telemetry_out *out, const char *key, uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	return scalar(out, key, t, false);
}

HP_API int hp_telemetry_double(struct hp_telemetry_out *out, const char *key, double v)
{
	char t[32];

	if (isfinite(v))
		snprintf(t, sizeof(t), "%.6g", v);
	else
		snprintf(t, sizeof(t), "null");
	return scalar(out, key, t, false);
}

HP_API int hp_telemetry_str(struct hp_telemetry_out *out, const char *key, const char *s)
{
	return s ? scalar(out, key, s, true) : scalar(out, key, "null", false);
}

HP_API int hp_telemetry_bool(struct hp_telemetry_out *out, const char *key, bool v)
{
	return scalar(out, key, v ? "true" : "false", false);
}

HP_API int hp_telemetry_error(struct hp_telemetry_out *out, const char *fmt, ...)
{
	va_list ap;

	if (!out || !fmt)
		return hp_fail(-EINVAL, "telemetry: hp_telemetry_error needs the reply and a "
					"format; one of them is NULL");
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	out->error = true;
	return -EINVAL;
}

HP_API int hp_telemetry_param_id(struct hp_telemetry_out *out, const char *cmd, const char *params,
				 const char *what, const char *list, unsigned max, unsigned *id)
{
	char *end;
	unsigned long v;

	if (!out || !cmd || !what || !list || !id)
		return hp_fail(-EINVAL,
			       "telemetry: hp_telemetry_param_id needs out, cmd, what, list "
			       "and id; one of them is NULL");
	if (!params || params[0] < '0' || params[0] > '9')
		return hp_telemetry_error(out, "%s needs %s from %s, e.g. %s,0 (got '%.40s')", cmd,
					  what, list, cmd, params ? params : "");
	v = strtoul(params, &end, 10);
	if (*end || v >= max)
		return hp_telemetry_error(out, "%s: '%.40s' is not %s; %s lists them", cmd, params,
					  what, list);
	*id = (unsigned)v;
	return 0;
}

HP_API int hp_telemetry_param_name(struct hp_telemetry_out *out, const char *cmd,
				   const char *params, const char *what, const char *list)
{
	if (!out || !cmd || !what || !list)
		return hp_fail(-EINVAL,
			       "telemetry: hp_telemetry_param_name needs out, cmd, what and "
			       "list; one of them is NULL");
	if (!params || !params[0])
		return hp_telemetry_error(out, "%s needs %s from %s, e.g. %s,NAME", cmd, what, list,
					  cmd);
	return 0;
}

void telemetry_out_finish(struct hp_telemetry_out *o)
{
	if (o->error) {
		o->len = o->value_at;
		o->depth = 0;
		o->reserve = 1;
		put_str(o, o->why);
	} else {
		o->skipped_depth = 0;
		while (o->depth)
			hp_telemetry_close(o);
		if (!o->top_done)
			put(o, "null", 4);
	}
	o->reserve = 0;
	put_c(o, '}');
	o->buf[o->len] = '\0';
}
