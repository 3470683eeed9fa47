/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/telemetry: the reply writer (telemetry_json.c) and the server (telemetry.c),
 * which runs the commands each library registers. Only the telemetry thread writes replies.
 */
#ifndef HP_TELEMETRY_INTERNAL_H
#define HP_TELEMETRY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <hp_telemetry.h>

#define TELEMETRY_MAX_DEPTH 16

/*
 * A reply: {"<cmd>":<value>} in buf. Every value is written whole or not at all; room for
 * the closers of the open containers and for the final "}" is kept back (reserve), so a reply
 * that runs out of room still closes every container and stays one valid JSON object.
 */
struct hp_telemetry_out {
	char buf[HP_TELEMETRY_MAX_OUTPUT + 1];
	size_t len;	 /* bytes in buf */
	size_t value_at; /* where the command's value starts (after {"<cmd>":) */
	size_t reserve;	 /* bytes kept back for closers */
	unsigned depth;
	struct {
		char type;  /* '{' or '[' */
		bool first; /* nothing written in it yet */
		bool open;  /* written; false when it was left out (no room) */
	} stack[TELEMETRY_MAX_DEPTH];
	unsigned skipped_depth; /* containers opened while full: their closes write nothing */
	bool top_done;		/* the top-level value is written */
	bool full;		/* a value was left out: nothing more is written */
	unsigned dropped;	/* values left out */
	bool error;		/* the reply is a sentence from hp_telemetry_error() */
	char why[512];		/* that sentence */
};

/* Start a reply to cmd (cut to HP_TELEMETRY_CMD_LEN characters). */
void telemetry_out_start(struct hp_telemetry_out *o, const char *cmd);

/* Finish the reply: close what the callback left open, add the truncation note, the "}". */
void telemetry_out_finish(struct hp_telemetry_out *o);

#endif
