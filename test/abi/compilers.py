#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The installed headers compile, warning-free, in the languages and compilers programs use:
C11 with gcc and clang, C++17 with g++ and clang++, each at -O0 and -O2 (the inline paths'
asm and atomics included). A compiler that is not installed is a skip, saying so.

  compilers.py INCLUDE_DIR...      prints TAP
"""
import os
import shutil
import subprocess
import sys
import tempfile

# Every inline path a program instantiates: pools (constant and run-time bulks, any thread),
# rings (both modes), packet buffers, RDMA keys (where the build has RDMA).
USE = r'''
#include <hugepool.h>

int use(struct hp_mempool *mp, struct hp_ring *r, struct hp_pktbuf *b, unsigned n);
int use(struct hp_mempool *mp, struct hp_ring *r, struct hp_pktbuf *b, unsigned n)
{
	void *o[64];
	int rc = 0;

	if (hp_mempool_get_bulk(mp, o, n) == 0)
		hp_mempool_put_bulk(mp, o, n);
	if (hp_mempool_get_bulk(mp, o, 4) == 0)
		hp_mempool_put_bulk(mp, o, 4);
	if (hp_mempool_get(mp, &o[0]) == 0)
		hp_mempool_put(mp, o[0]);
	rc += (int)hp_ring_enqueue_burst(r, o, n, NULL);
	rc += (int)hp_ring_dequeue_burst(r, o, n, NULL);
	rc += (int)hp_ring_count(r);
	hp_pktbuf_refcnt_update(b, 1);
	return rc;
}

#ifdef HP_HAVE_RDMA
int keys(const struct hp_rdma_map *map, const void *addr, size_t len);
int keys(const struct hp_rdma_map *map, const void *addr, size_t len)
{
	uint32_t lkey, rkey;

	return hp_rdma_lkey(map, addr, len, &lkey) + hp_rdma_rkey(map, addr, len, &rkey);
}
#endif
'''

CASES = [('gcc', 'c', ['-std=c11']), ('clang', 'c', ['-std=c11']),
         ('g++', 'c++', ['-std=c++17']), ('clang++', 'c++', ['-std=c++17'])]


def main():
    incs = [f'-I{d}' for d in sys.argv[1:]]
    n = 0
    failed = False
    print(f'1..{len(CASES) * 2}')
    with tempfile.TemporaryDirectory() as tmp:
        for cc, lang, std in CASES:
            src = os.path.join(tmp, 'use.' + ('c' if lang == 'c' else 'cc'))
            with open(src, 'w') as f:
                f.write(USE)
            for opt in ('-O0', '-O2'):
                n += 1
                name = f'{cc} {std[0]} {opt}'
                if not shutil.which(cc):
                    print(f'ok {n} - {name} # SKIP {cc} is not installed')
                    continue
                cmd = [cc, *std, opt, '-Wall', '-Wextra', '-Werror', '-c', src, '-o',
                       os.path.join(tmp, 'use.o'), *incs]
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
                if p.returncode == 0:
                    print(f'ok {n} - {name}')
                else:
                    failed = True
                    print(f'not ok {n} - {name}')
                    for line in (p.stderr or p.stdout).splitlines()[:15]:
                        print(f'# {line}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
