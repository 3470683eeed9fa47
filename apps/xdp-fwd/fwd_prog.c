/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP programs on xdp-fwd's ports. An AF_XDP redirect program (one with an XSK map) whose
 * map no running process holds open was left by a process that died (kill -9): it is detached
 * at start, so the port can be taken, and again at exit, so every port ends as it began.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "fwd.h"

#define MAX_PROG_MAPS 16

static bool map_is_xsk(uint32_t id)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	int fd = bpf_map_get_fd_by_id(id);
	bool xsk;

	if (fd < 0)
		return false;
	xsk = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_MAP_TYPE_XSKMAP;
	close(fd);
	return xsk;
}

/* The id of the XSK map the program redirects to, 0 when it has none. */
static uint32_t xsk_map_of(int prog_fd)
{
	uint32_t ids[MAX_PROG_MAPS], len = 0, i;
	struct bpf_prog_info info;

	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (prog_fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return 0;
	for (i = 0; i < info.nr_map_ids && i < MAX_PROG_MAPS; i++)
		if (map_is_xsk(ids[i]))
			return ids[i];
	return 0;
}

/* Does fd N of process pid refer to BPF map id? */
static bool fd_is_map(const char *pid, const char *fd, uint32_t id)
{
	char path[600], line[128];
	unsigned long got;
	bool hit = false;
	FILE *fp;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, fd);
	n = readlink(path, line, sizeof(line) - 1);
	if (n < 0)
		return false;
	line[n] = 0;
	if (strcmp(line, "anon_inode:bpf-map"))
		return false;
	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	while (!hit && fgets(line, sizeof(line), fp))
		hit = sscanf(line, "map_id: %lu", &got) == 1 && got == id;
	fclose(fp);
	return hit;
}

/* Does a process other than this one hold map id open? libxdp and DPDK keep the XSK map's fd as
 * long as their sockets live; a process killed holds nothing. Unsure (no /proc): yes. */
static bool map_held(uint32_t id)
{
	char self[16], path[300];
	struct dirent *pe, *fe;
	DIR *proc, *fds;
	bool held = false;

	proc = opendir("/proc");
	if (!proc)
		return true;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (!held && (pe = readdir(proc))) {
		if (!isdigit((unsigned char)pe->d_name[0]) || !strcmp(pe->d_name, self))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!held && (fe = readdir(fds)))
			held = fe->d_name[0] != '.' && fd_is_map(pe->d_name, fe->d_name, id);
		closedir(fds);
	}
	closedir(proc);
	return held;
}

/* A program to detach: it redirects to AF_XDP sockets and nobody alive holds their map. */
static bool orphan(struct xdp_program *prog, uint32_t *map_id)
{
	*map_id = prog ? xsk_map_of(xdp_program__fd(prog)) : 0;
	return *map_id && !map_held(*map_id);
}

static void said(const struct fwd_port *p, struct xdp_program *prog, uint32_t map_id,
		 const char *when)
{
	fprintf(stderr,
		"xdp-fwd: %s: detached %s XDP program '%s' (AF_XDP map id %u) that no running "
		"process uses\n",
		p->name, when, xdp_program__name(prog), map_id);
}

int fwd_prog_sweep(const struct fwd *f, const char *when)
{
	unsigned i, n = 0;

	for (i = 0; i < f->n_ports; i++) {
		const struct fwd_port *p = &f->ports[i];
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)p->ifindex);
		struct xdp_program *prog;
		uint32_t map_id;

		if (libxdp_get_error(mp) || !mp)
			continue; /* no program, or none libxdp can read */
		if (xdp_multiprog__is_legacy(mp)) {
			prog = xdp_multiprog__main_prog(mp);
			if (orphan(prog, &map_id) && !xdp_multiprog__detach(mp)) {
				said(p, prog, map_id, when);
				n++;
			}
		} else {
			/* a dispatcher: detach the orphaned components only */
			for (prog = xdp_multiprog__next_prog(NULL, mp); prog;
			     prog = xdp_multiprog__next_prog(prog, mp))
				if (orphan(prog, &map_id) &&
				    !xdp_program__detach(prog, (int)p->ifindex,
							 xdp_multiprog__attach_mode(mp), 0)) {
					said(p, prog, map_id, when);
					n++;
				}
		}
		xdp_multiprog__close(mp);
	}
	return (int)n;
}
