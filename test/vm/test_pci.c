/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci on real DMA, inside the VM lane's device guests (test/vm/run.sh --edu --vnet 2, with
 * --iommu: vfio-pci and IOVA = VA; without: uio_pci_generic and --iova=pa). qemu's edu device
 * copies between its buffer at 0x40000 and a DMA address; every check compares the bytes the
 * device wrote. Also a modern virtio-net device: its capabilities and one transmitted frame.
 * Skips (77) where HP_VM_EDU names no device. Cases run in order on one runtime.
 * --bench: open time and growth latency with and without a device (ratios; TCG speeds).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <hp_pci.h>

#include "hp_test.h"

#define MB (1UL << 20)
#define EDU_BUF 0x40000
#define XFER 2048 /* edu in qemu 7.2: keep each transfer to 2048 bytes */

static const char *edu_addr, *vnet_addr, *vnet2_addr;
static bool va_mode; /* booted with an IOMMU: vfio-pci, IOVA = VA */
static const char *drv_name;
static struct hp_pci_dev *edu;
static volatile uint8_t *edu_bar;
static int fds_at_start;
static unsigned free_at_start;
static char self_exe[4096];

/* ---- helpers -------------------------------------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the DIR's own */
}

static bool vfio_fds_open(void)
{
	char path[512], target[256];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			found |=
			    !strncmp(target, "/dev/vfio", 9) || !strncmp(target, "/dev/uio", 8);
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void write_sys(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			(void)0; /* checked by the caller through the driver link */
		close(fd);
	}
}

static void driver_of(const char *addr, char *out, size_t n)
{
	char path[256], target[256];
	ssize_t r;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", addr);
	r = readlink(path, target, sizeof(target) - 1);
	out[0] = 0;
	if (r > 0) {
		target[r] = 0;
		snprintf(out, n, "%s", strrchr(target, '/') + 1);
	}
}

/* Bind addr to drv with driver_override, as hp-devbind does; fails the test if it does not take. */
static void bind_to(const char *addr, const char *drv)
{
	char path[256], cur[64];

	driver_of(addr, cur, sizeof(cur));
	if (!strcmp(cur, drv))
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", addr);
	write_sys(path, drv);
	if (cur[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", addr);
		write_sys(path, addr);
	}
	write_sys("/sys/bus/pci/drivers_probe", addr);
	driver_of(addr, cur, sizeof(cur));
	if (strcmp(cur, drv))
		fail_msg("%s: binding to %s failed (driver now: \"%s\")", addr, drv, cur);
}

static void edu_w64(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(edu_bar + off) = v;
}

static uint32_t edu_r32(unsigned off)
{
	return *(volatile uint32_t *)(edu_bar + off);
}

static void edu_w32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(edu_bar + off) = v;
}

/* One edu DMA of len bytes between iova and the device buffer; waits for it to end. */
static void edu_dma(uint64_t iova, size_t len, bool to_ram)
{
	struct timespec t0, t;

	assert_true(len <= XFER);
	if (to_ram) {
		edu_w64(0x80, EDU_BUF);
		edu_w64(0x88, iova);
	} else {
		edu_w64(0x80, iova);
		edu_w64(0x88, EDU_BUF);
	}
	edu_w64(0x90, len);
	edu_w64(0x98, to_ram ? 3 : 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (edu_r32(0x98) & 1) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			fail_msg("edu DMA of %zu bytes at %#lx did not end in 10 s", len,
				 (unsigned long)iova);
		usleep(1000);
	}
}

static uint64_t iova_of(const void *va)
{
	uint64_t iova = hp_mem_virt2iova(va);

	assert_true(iova != HP_BAD_IOVA);
	if (va_mode)
		assert_true(iova == (uintptr_t)va);
	return iova;
}

static void pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 31 + 1);
}

/* Bytes from src through the device into dst: src -> edu -> dst. */
static void round_trip(void *src, void *dst, unsigned seed)
{
	pattern(src, XFER, seed);
	memset(dst, 0, XFER);
	edu_dma(iova_of(src), XFER, false);
	edu_dma(iova_of(dst), XFER, true);
	assert_memory_equal(src, dst, XFER);
}

static unsigned dmar_faults(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf = malloc(len > 0 ? (size_t)len + 1 : 1), *p;
	unsigned n = 0;
	int got;

	assert_non_null(buf);
	got = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	buf[got > 0 ? got : 0] = 0;
	for (p = buf; (p = strstr(p, "DMAR: [DMA ")); p++)
		n++;
	free(buf);
	return n;
}

static void open_edu(void)
{
	size_t len = 0;

	assert_int_equal(hp_pci_dev_open(edu_addr, &edu), 0);
	edu_bar = hp_pci_dev_bar(edu, 0, &len);
	assert_non_null(edu_bar);
	assert_true(len >= 0x1000);
	assert_int_equal(hp_pci_dev_bus_master(edu, true), 0);
}

static void close_edu(void)
{
	assert_int_equal(hp_pci_dev_close(edu), 0);
	edu = NULL;
	edu_bar = NULL;
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_auto_mode_and_open(void **state)
{
	uint16_t ids[2], cmd;
	uint32_t ident = 0, v;

	(void)state;
	/* --iova=auto decides as DPDK does: VA with an IOMMU and VFIO, PA without an IOMMU (root)
	 */
	assert_int_equal(hp_iova_mode_probe(), va_mode ? HP_IOVA_VA : HP_IOVA_PA);
	print_message("in force: %s\n", hp_iova_mode_reason());
	assert_int_equal(hp_iova_mode(), va_mode ? HP_IOVA_VA : HP_IOVA_PA);
	open_edu();
	assert_string_equal(hp_pci_dev_driver(edu), drv_name);
	assert_int_equal(hp_pci_dev_iova_mode(edu), va_mode ? HP_IOVA_VA : HP_IOVA_PA);
	assert_string_equal(hp_pci_dev_addr(edu), edu_addr);
	assert_int_equal(hp_pci_dev_config_read(edu, 0, ids, 4), 0);
	assert_int_equal(ids[0], 0x1234);
	assert_int_equal(ids[1], 0x11e8);
	assert_int_equal(hp_pci_dev_id(edu, &ids[0], &ids[1]), 0);
	assert_int_equal(ids[1], 0x11e8);
	assert_int_equal(hp_pci_dev_config_read(edu, 4, &cmd, 2), 0);
	assert_true(cmd & 0x4);					/* bus master on */
	assert_true(hp_pci_dev_find_cap(edu, 0x05, 0) >= 0x40); /* edu has MSI */
	assert_int_equal(edu_r32(0), 0x010000ed);
	assert_int_equal(hp_pci_dev_bar_read(edu, 0, 0, &ident, 4), 0);
	assert_int_equal(ident, 0x010000ed);
	v = 0x12345678;
	assert_int_equal(hp_pci_dev_bar_write(edu, 0, 4, &v, 4), 0);
	assert_int_equal(edu_r32(4), ~0x12345678u); /* liveness: the device inverts */
	assert_int_equal(hp_pci_dev_numa_node(edu) >= 0, 1);
}

static void dma_on_node(int node)
{
	char name[32];
	struct hp_mempool *mp;
	const struct hp_memzone *mz;
	void *a, *b;

	snprintf(name, sizeof(name), "pci_pool%d", node);
	mp = hp_mempool_create(name, 8, 4096, 0, node, 0);
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get(mp, &a), 0);
	assert_int_equal(hp_mempool_get(mp, &b), 0);
	assert_int_equal(hp_mem_node_of(a), node);
	round_trip(a, b, (unsigned)node + 1);
	assert_int_equal(hp_mempool_virt2iova(b), iova_of(b));
	snprintf(name, sizeof(name), "pci_zone%d", node);
	mz = hp_memzone_reserve(name, 4096, node, HP_MZ_IOVA_CONTIG, 4096);
	assert_non_null(mz);
	assert_int_equal(hp_mem_node_of(mz->va), node);
	memset(mz->va, 0, XFER);
	edu_dma(mz->iova, XFER, true); /* the device still holds a's bytes */
	assert_memory_equal(a, mz->va, XFER);
	hp_mempool_put(mp, a);
	hp_mempool_put(mp, b);
	assert_int_equal(hp_memzone_free(mz), 0);
	assert_int_equal(hp_mempool_free(mp), 0);
}

static void test_dma_pool_and_memzone_node0(void **state)
{
	(void)state;
	dma_on_node(0);
}

static void test_dma_pool_and_memzone_node1(void **state)
{
	(void)state;
	dma_on_node(1);
}

static void test_interrupt_fires_and_rearms(void **state)
{
	struct pollfd p;
	int fd;

	(void)state;
	fd = hp_pci_dev_irq_fd(edu, 0);
	if (fd < 0)
		fail_msg("hp_pci_dev_irq_fd: %s", hp_last_error());
	for (int round = 0; round < 2; round++) {
		edu_w32(0x60, 1u << round); /* raise */
		p = (struct pollfd){.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		edu_w32(0x64, 1u << round); /* the device lowers INTx */
		assert_true(hp_pci_dev_irq_rearm(edu, 0) >= 1);
		p.revents = 0;
		if (!va_mode || round)
			continue;
		assert_int_equal(poll(&p, 1, 0), 0); /* consumed */
	}
	assert_int_equal(hp_pci_dev_irq_fd(edu, 99), -EINVAL);
}

static void test_memory_grown_after_open_is_reachable_at_once(void **state)
{
	struct hp_dma_stats before, after;
	size_t big = 24 * MB;
	uint8_t *p, src[XFER];

	(void)state;
	assert_int_equal(hp_dma_stats(&before), 0);
	p = hp_malloc(big, 4096, 0);
	assert_non_null(p);
	assert_int_equal(hp_dma_stats(&after), 0);
	if (va_mode)
		assert_true(after.maps > before.maps && after.bytes >= before.bytes + big);
	for (size_t off = 0; off < big; off += 8 * MB) {
		pattern(src, XFER, (unsigned)(off >> 20));
		memcpy(p + off + 4096, src, XFER);
		edu_dma(iova_of(p + off + 4096), XFER, false);
		memset(p + off, 0, XFER);
		edu_dma(iova_of(p + off), XFER, true);
		assert_memory_equal(p + off, src, XFER);
	}
	hp_free(p);
}

static void test_memory_given_back_is_unreachable_until_it_grows_again(void **state)
{
	struct hp_dma_stats held, gone;
	size_t big = 8 * MB;
	uint8_t *p, *q, *target, src[XFER];
	unsigned faults;

	(void)state;
	if (!va_mode) {
		print_message("no IOMMU: nothing stops a device's DMA to memory that went back\n");
		skip();
	}
	p = hp_malloc(big, 2 * MB, 0);
	assert_non_null(p);
	target = p + 4 * MB;
	assert_int_equal(hp_dma_stats(&held), 0);
	hp_free(p);	/* free grown pages beyond the node's budget go back at once, */
	hp_mem_trim(0); /* and trim gives back the ones the budget kept */
	assert_true(hp_mem_virt2iova(target) == HP_BAD_IOVA);
	assert_int_equal(hp_dma_stats(&gone), 0);
	assert_true(gone.maps < held.maps); /* unmapped with the give-back */
	faults = dmar_faults();
	pattern(src, XFER, 77);
	/* the device holds src after this; its write to the returned page must be blocked */
	{
		uint8_t *stage = hp_malloc(4096, 4096, 0);

		assert_non_null(stage);
		memcpy(stage, src, XFER);
		edu_dma(iova_of(stage), XFER, false);
		hp_free(stage);
	}
	edu_dma((uintptr_t)target, XFER, true);
	assert_true(dmar_faults() > faults); /* the IOMMU refused it */
	/* grow again: the page comes back (zeroed by the kernel), mapped before any use */
	q = hp_malloc(big, 2 * MB, 0);
	assert_non_null(q);
	if (hp_mem_virt2iova(target) != HP_BAD_IOVA) {
		assert_true(memcmp(target, src, XFER) != 0); /* the blocked DMA wrote nothing */
		memset(target, 0, XFER);
		edu_dma((uintptr_t)target, XFER, true);
		assert_memory_equal(target, src, XFER); /* reachable again */
	}
	memset(q, 0, XFER);
	edu_dma(iova_of(q), XFER, true);
	assert_memory_equal(q, src, XFER);
	hp_free(q);
}

static int add_len(const struct hp_memseg *run, void *arg)
{
	*(size_t *)arg += run->len;
	return 0;
}

static volatile bool churn_stop;

/* Grow and give back on both nodes until told to stop. */
static void *churn(void *arg)
{
	int node = (int)(uintptr_t)arg;
	unsigned long n = 0;

	while (!churn_stop) {
		void *p = hp_malloc((2 + n % 3) * 2 * MB, 2 * MB, node);

		if (p) {
			memset(p, 0x5a, 4096);
			hp_free(p);
			hp_mem_trim(node); /* the kept pages go back too: give-back races growth */
		}
		n++;
	}
	return (void *)n;
}

static void test_concurrent_growth_keeps_every_page_mapped(void **state)
{
	pthread_t th[2];
	struct hp_dma_stats st;
	size_t present = 0;
	void *rounds[2];

	(void)state;
	churn_stop = false;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < 6; i++) {
		uint8_t *p = hp_malloc(4 * MB, 2 * MB, (int)(i & 1));

		assert_non_null(p);
		round_trip(p + 2 * MB + 4096, p + 2 * MB, 20 + i); /* grown while others grow */
		hp_free(p);
	}
	churn_stop = true;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], &rounds[i]), 0);
	print_message("growths by the other threads: %lu, %lu\n", (unsigned long)rounds[0],
		      (unsigned long)rounds[1]);
	assert_int_equal(hp_dma_stats(&st), 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.user_maps, 0);
	hp_memseg_contig_walk(add_len, &present);
	if (va_mode) /* exactly the pages held now are mapped: none missing, none left over */
		assert_int_equal(st.bytes, present);
}

static void test_dma_map_of_outside_memory(void **state)
{
	size_t len = 2 * MB;
	uint8_t *buf, *other, src[XFER];
	void *obj;
	struct hp_mempool *mp;

	(void)state;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	assert_true(buf != MAP_FAILED);
	mp = hp_mempool_create("pci_dmamap", 4, 4096, 0, 0, 0);
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get(mp, &obj), 0);
	assert_int_equal(hp_dma_map(NULL, len), -EINVAL);
	assert_int_equal(hp_dma_map(buf + 1, 4096), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "whole pages"));
	assert_int_equal(hp_dma_map(buf, 100), -EINVAL);
	assert_int_equal(hp_dma_map((void *)((uintptr_t)obj & ~4095UL), 4096), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "runtime memory"));
	assert_int_equal(hp_dma_map(buf, len), 0);
	assert_int_equal(hp_dma_map(buf + 4096, 8192), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "overlaps"));
	assert_int_equal(hp_dma_unmap(buf, 4096), -EINVAL);
	if (va_mode) {
		pattern(src, XFER, 5);
		memcpy(obj, src, XFER);
		edu_dma(iova_of(obj), XFER, false);
		edu_dma((uintptr_t)buf + 8192, XFER, true);
		assert_memory_equal(buf + 8192, src, XFER);
	}
	assert_int_equal(hp_dma_unmap(buf, len), 0);
	assert_int_equal(hp_dma_unmap(buf, len), -EINVAL);
	if (va_mode) {
		/* unmapped: the device's write is refused, the bytes stay */
		other = buf + 65536;
		memset(other, 0xab, XFER);
		edu_dma((uintptr_t)other, XFER, true);
		for (size_t i = 0; i < XFER; i++)
			assert_int_equal(other[i], 0xab);
	}
	hp_mempool_put(mp, obj);
	assert_int_equal(hp_mempool_free(mp), 0);
	munmap(buf, len);
}

/* ---- virtio-net (modern) ----------------------------------------------------------------------
 */

struct vcap {
	uint8_t bar;
	uint32_t off, len;
};

static volatile uint8_t *cap_ptr(struct hp_pci_dev *d, const struct vcap *c)
{
	size_t len = 0;
	volatile uint8_t *b = hp_pci_dev_bar(d, c->bar, &len);

	assert_non_null((void *)b);
	assert_true((uint64_t)c->off + c->len <= len);
	return b + c->off;
}

static void test_two_devices_share_the_container_and_virtio_tx_completes(void **state)
{
	struct hp_dma_stats st0, st;
	struct hp_pci_dev *vn;
	struct vcap caps[5] = {0};
	uint32_t notify_mult = 0;
	int pos;
	volatile uint8_t *common, *notify;
	const struct hp_memzone *ring;
	struct hp_mempool *mp;
	uint8_t *frame;
	void *obj;

	(void)state;
	if (!vnet_addr)
		skip();
	bind_to(vnet_addr, drv_name);
	assert_int_equal(hp_dma_stats(&st0), 0);
	assert_int_equal(hp_pci_dev_open(vnet_addr, &vn), 0);
	assert_int_equal(hp_dma_stats(&st), 0);
	assert_int_equal(st.devices, 2);
	assert_int_equal(st.vfio_devices, va_mode ? 2 : 0);
	assert_int_equal(st.container, va_mode);
	assert_int_equal(st.maps, st0.maps); /* one container: nothing mapped twice */
	/* the modern capabilities, from config space */
	for (pos = hp_pci_dev_find_cap(vn, 0x09, 0); pos > 0;
	     pos = hp_pci_dev_find_cap(vn, 0x09, pos)) {
		uint8_t c[16];

		assert_int_equal(hp_pci_dev_config_read(vn, (unsigned)pos, c, 16), 0);
		if (c[3] >= 1 && c[3] <= 4 && !caps[c[3]].len) {
			caps[c[3]].bar = c[4];
			memcpy(&caps[c[3]].off, c + 8, 4);
			memcpy(&caps[c[3]].len, c + 12, 4);
			if (c[3] == 2)
				assert_int_equal(
				    hp_pci_dev_config_read(vn, (unsigned)pos + 16, &notify_mult, 4),
				    0);
		}
	}
	for (int t = 1; t <= 4; t++)
		if (!caps[t].len)
			fail_msg("virtio cfg_type %d (common/notify/isr/device) not found", t);
	common = cap_ptr(vn, &caps[1]);
	notify = cap_ptr(vn, &caps[2]);
	/* reset, ACKNOWLEDGE | DRIVER, features VERSION_1 (+ ACCESS_PLATFORM where offered) */
	common[20] = 0;
	while (common[20])
		;
	common[20] = 1 | 2;
	*(volatile uint32_t *)(common + 0) = 1; /* device_feature_select: bits 32-63 */
	uint32_t hi = *(volatile uint32_t *)(common + 4);
	assert_true(hi & 1); /* VERSION_1 */
	if (va_mode)
		assert_true(hi & 2); /* ACCESS_PLATFORM: the device goes through the IOMMU */
	*(volatile uint32_t *)(common + 8) = 0;
	*(volatile uint32_t *)(common + 12) = 0;
	*(volatile uint32_t *)(common + 8) = 1;
	*(volatile uint32_t *)(common + 12) = hi & 3;
	common[20] = 1 | 2 | 8;
	assert_true(common[20] & 8); /* FEATURES_OK */
	/* tx queue (1) of 16 descriptors in one IOVA-contiguous zone */
	*(volatile uint16_t *)(common + 22) = 1;
	assert_true(*(volatile uint16_t *)(common + 24) >= 16);
	*(volatile uint16_t *)(common + 24) = 16;
	ring = hp_memzone_reserve("pci_vq", 16384, HP_NODE_ANY, HP_MZ_IOVA_CONTIG, 4096);
	assert_non_null(ring);
	memset(ring->va, 0, 16384);
	uint8_t *desc = ring->va, *avail = desc + 4096, *used = desc + 8192;
	uint64_t d_iova = ring->iova, a_iova = d_iova + 4096, u_iova = d_iova + 8192;
	*(volatile uint32_t *)(common + 32) = (uint32_t)d_iova;
	*(volatile uint32_t *)(common + 36) = (uint32_t)(d_iova >> 32);
	*(volatile uint32_t *)(common + 40) = (uint32_t)a_iova;
	*(volatile uint32_t *)(common + 44) = (uint32_t)(a_iova >> 32);
	*(volatile uint32_t *)(common + 48) = (uint32_t)u_iova;
	*(volatile uint32_t *)(common + 52) = (uint32_t)(u_iova >> 32);
	uint16_t qnoff = *(volatile uint16_t *)(common + 30);
	*(volatile uint16_t *)(common + 28) = 1; /* queue_enable */
	common[20] = 1 | 2 | 8 | 4;		 /* DRIVER_OK */
	assert_int_equal(hp_pci_dev_bus_master(vn, true), 0);
	/* one frame in a pool buffer: 12-byte virtio-net header, then 60 bytes of Ethernet */
	mp = hp_mempool_create("pci_vnet", 8, 2048, 0, HP_NODE_ANY, 0);
	assert_non_null(mp);
	assert_int_equal(hp_mempool_get(mp, &obj), 0);
	frame = obj;
	memset(frame, 0, 72);
	memset(frame + 12, 0xff, 6);
	memcpy(frame + 18, "\x52\x54\x00\x00\x10\x01", 6);
	frame[24] = 0x88;
	frame[25] = 0xb5; /* local experimental ethertype */
	memcpy(frame + 26, "hugepool pci test", 17);
	uint64_t f_iova = hp_mempool_virt2iova(obj);
	uint32_t f_len = 72;
	memcpy(desc + 0, &f_iova, 8);
	memcpy(desc + 8, &f_len, 4);	     /* flags 0, next 0 */
	((volatile uint16_t *)avail)[2] = 0; /* ring[0] = descriptor 0 */
	/* the entry before idx, idx (a full barrier: seq_cst) before the doorbell */
	__atomic_store_n((uint16_t *)avail + 1, 1, __ATOMIC_SEQ_CST); /* idx */
	*(volatile uint16_t *)(notify + (size_t)qnoff * notify_mult) = 1;
	for (int i = 0; i < 5000 && ((volatile uint16_t *)used)[1] != 1; i++)
		usleep(1000);
	assert_int_equal(((volatile uint16_t *)used)[1], 1);   /* the device completed it */
	assert_int_equal(*(volatile uint32_t *)(used + 4), 0); /* used.ring[0].id */
	common[20] = 0; /* reset before the ring's memory goes */
	while (common[20])
		;
	assert_int_equal(hp_pci_dev_close(vn), 0);
	hp_mempool_put(mp, obj);
	assert_int_equal(hp_mempool_free(mp), 0);
	assert_int_equal(hp_memzone_free(ring), 0);
	assert_int_equal(hp_dma_stats(&st), 0);
	assert_int_equal(st.devices, 1);
}

static void test_bad_input_says_why_and_leaks_nothing(void **state)
{
	struct hp_pci_dev *d = NULL;
	uint8_t b[8];
	int fds = count_fds();

	(void)state;
	assert_int_equal(hp_pci_dev_open(NULL, &d), -EINVAL);
	assert_int_equal(hp_pci_dev_open(edu_addr, NULL), -EINVAL);
	assert_int_equal(hp_pci_dev_open("00:04", &d), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "0000:00:04.0"));
	assert_int_equal(hp_pci_dev_open("0000:00:1e.7", &d), -ENODEV);
	assert_non_null(strstr(hp_last_error(), "hp-devbind"));
	assert_int_equal(hp_pci_dev_open(edu_addr, &d), -EBUSY);
	if (vnet2_addr) {
		char cur[64];

		driver_of(vnet2_addr, cur, sizeof(cur));
		if (!strcmp(cur, "virtio-pci")) {
			assert_int_equal(hp_pci_dev_open(vnet2_addr, &d), -EPERM);
			assert_non_null(strstr(hp_last_error(), "virtio-pci"));
			assert_non_null(strstr(hp_last_error(), "hp-devbind"));
		}
		if (va_mode) { /* uio in VA mode cannot work */
			bind_to(vnet2_addr, "uio_pci_generic");
			assert_int_equal(hp_pci_dev_open(vnet2_addr, &d), -EINVAL);
			assert_non_null(strstr(hp_last_error(), "--iova=pa"));
		}
	}
	assert_null(d);
	if (va_mode) { /* a vfio device in a runtime started with --iova=pa: refused */
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			execl(self_exe, self_exe, "--refuse-pa", (char *)NULL);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(hp_pci_dev_close(NULL), -EINVAL);
	assert_null(hp_pci_dev_bar(edu, 6, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(hp_pci_dev_bar(edu, 3, NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(hp_pci_dev_bar(NULL, 0, NULL));
	assert_int_equal(hp_pci_dev_bar_read(edu, 0, 1 * MB, b, 4), -EINVAL);
	assert_non_null(strstr(hp_last_error(), "past the end"));
	assert_int_equal(hp_pci_dev_bar_read(edu, 0, 0, NULL, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_config_read(edu, 4096, b, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_config_write(edu, 254, b, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_bus_master(NULL, true), -EINVAL);
	assert_int_equal(fds, count_fds());
}

static void test_close_and_reopen(void **state)
{
	struct hp_dma_stats st;
	void *a, *b;

	(void)state;
	close_edu();
	assert_int_equal(hp_pci_dev_close(edu), -EINVAL);
	assert_int_equal(hp_dma_stats(&st), 0);
	assert_int_equal(st.devices, 0);
	assert_false(st.container);
	assert_int_equal(st.maps, 0);
	open_edu();
	a = hp_malloc(4096, 4096, 0);
	b = hp_malloc(4096, 4096, 1);
	assert_non_null(a);
	assert_non_null(b);
	round_trip(a, b, 9);
	hp_free(a);
	hp_free(b);
}

static void test_kill9_then_open_at_once(void **state)
{
	char line[16] = "";
	int pipefd[2], status;
	pid_t pid;
	struct timespec t0, t1;
	void *a, *b;

	(void)state;
	close_edu();
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(self_exe, self_exe, "--hold", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	assert_true(read(pipefd[0], line, sizeof(line) - 1) > 0);
	close(pipefd[0]);
	assert_memory_equal(line, "held", 4);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	open_edu();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("opened %.3f s after the kill\n",
		      (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	a = hp_malloc(4096, 4096, 0);
	b = hp_malloc(4096, 4096, 0);
	round_trip(a, b, 11);
	hp_free(a);
	hp_free(b);
}

/*
 * A forked child shares the parent's device and container files: its hp_cleanup(), and a
 * runtime of its own started and stopped, must leave the parent's device mapped and mastering.
 */
static void test_a_forked_child_leaves_the_parents_device_alone(void **state)
{
	struct hp_dma_stats before, after;
	struct hp_pci_dev *d = NULL;
	int status;
	pid_t pid;
	void *a = hp_malloc(4096, 4096, 0), *b = hp_malloc(4096, 4096, 0);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	round_trip(a, b, 13);
	assert_int_equal(hp_dma_stats(&before), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int bad = hp_pci_dev_open(edu_addr, &d) != -EINVAL ||
			  !strstr(hp_last_error(), "fork of pid");

		hp_cleanup();
		if (hp_test_init_str(va_mode ? "--file-prefix=pci_child --iova=auto"
					     : "--file-prefix=pci_child --iova=pa") < 0)
			_exit(3);
		hp_cleanup();
		_exit(bad ? 2 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(hp_dma_stats(&after), 0);
	assert_int_equal(after.devices, before.devices);
	assert_int_equal(after.container, before.container);
	assert_int_equal(after.maps, before.maps);
	round_trip(a, b, 14);
	hp_free(a);
	hp_free(b);
}

static void test_cleanup_leaves_nothing(void **state)
{
	(void)state;
	hp_cleanup(); /* edu still open: hp_cleanup closes it and the container */
	edu = NULL;
	assert_false(vfio_fds_open());
	assert_int_equal(count_fds(), fds_at_start);
	assert_int_equal(hp_test_free_hugepages(0, 2 * MB) + hp_test_free_hugepages(1, 2 * MB),
			 free_at_start);
}

/* ---- the child of the kill -9 case: open, DMA once, say so, wait to be killed ---------------- */

static int hold(void)
{
	char opts[128];
	uint8_t *a, *b;

	snprintf(opts, sizeof(opts), "--file-prefix=pci_hold %s", va_mode ? "" : "--iova=pa");
	if (hp_test_init_str(opts) < 0 || hp_pci_dev_open(edu_addr, &edu))
		return 1;
	edu_bar = hp_pci_dev_bar(edu, 0, NULL);
	hp_pci_dev_bus_master(edu, true);
	a = hp_malloc(4096, 4096, 0);
	b = hp_malloc(4096, 4096, 0);
	pattern(a, XFER, 3);
	edu_dma(hp_mem_virt2iova(a), XFER, false);
	edu_dma(hp_mem_virt2iova(b), XFER, true);
	if (memcmp(a, b, XFER))
		return 1;
	if (write(1, "held\n", 5) != 5)
		return 1;
	for (;;)
		pause();
}

/* ---- --bench: open with 1 GiB mapped, per run and per page; growth with and without a device --
 */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Seconds to open edu with what the runtime holds now; its map count in *maps. */
static double timed_open(unsigned *maps)
{
	struct hp_dma_stats st;
	double t0 = now_s(), t;

	if (hp_pci_dev_open(edu_addr, &edu)) {
		fprintf(stderr, "open: %s\n", hp_last_error());
		exit(1);
	}
	t = now_s() - t0;
	hp_dma_stats(&st);
	*maps = st.maps;
	hp_pci_dev_close(edu);
	return t;
}

/* Mean seconds of a growth of 4 MiB on node 0 and its give-back (hp_free of the last use). */
static double grow_latency(unsigned rounds)
{
	double t0 = now_s();

	for (unsigned i = 0; i < rounds; i++) {
		void *p = hp_malloc(4 * MB, 2 * MB, 0);

		if (!p)
			exit(1);
		hp_free(p);
	}
	return (now_s() - t0) / rounds;
}

static int bench(void)
{
	void *blocks[64];
	unsigned maps[3] = {0};
	double t[3] = {0}, without = 0, with = 0;
	const int rounds = 3;

	if (!va_mode) {
		fprintf(stderr, "--bench measures VFIO maps: boot with --iommu\n");
		return 77;
	}
	bind_to(edu_addr, drv_name);
	/* interleaved rounds: 2 MiB (the device's own cost), 1 GiB held (one map per run),
	 * 1 GiB grown (one map per page) */
	for (int r = 0; r < rounds; r++) {
		if (hp_test_init_str("--socket-mem=2") < 0)
			return 1;
		t[0] += timed_open(&maps[0]);
		hp_cleanup();
		if (hp_test_init_str("--socket-mem=512,512") < 0)
			return 1;
		t[1] += timed_open(&maps[1]);
		hp_cleanup();
		if (hp_test_init_str("") < 0)
			return 1;
		for (unsigned i = 0; i < 64; i++)
			blocks[i] = hp_malloc(16 * MB, 2 * MB, (int)(i & 1));
		t[2] += timed_open(&maps[2]);
		for (unsigned i = 0; i < 64; i++)
			hp_free(blocks[i]);
		hp_cleanup();
	}
	/* growth latency, interleaved: without a device, with one */
	if (hp_test_init_str("") < 0)
		return 1;
	for (int r = 0; r < rounds; r++) {
		without += grow_latency(40);
		hp_pci_dev_open(edu_addr, &edu);
		with += grow_latency(40);
		hp_pci_dev_close(edu);
	}
	hp_cleanup();
	for (int i = 0; i < 3; i++)
		t[i] /= rounds;
	printf("{\"open_2m_s\":%.4f,\"maps_2m\":%u,\"open_1g_per_run_s\":%.4f,\"maps_per_run\":%u,"
	       "\"open_1g_per_page_s\":%.4f,\"maps_per_page\":%u,"
	       "\"grow_and_give_back_4m_without_device_s\":%.5f,\"grow_and_give_back_4m_with_"
	       "device_s\":%.5f,"
	       "\"ratio_map_per_page_to_per_run\":%.2f,\"ratio_grow_with_to_without\":%.2f}\n",
	       t[0], maps[0], t[1], maps[1], t[2], maps[2], without / rounds, with / rounds,
	       (t[2] - t[0]) / (t[1] - t[0]), with / without);
	return 0;
}

/* The child of the bad-input case: vfio-pci with IOVA = PA must be refused, naming --iova=va. */
static int refuse_pa(void)
{
	struct hp_pci_dev *d = NULL;
	int rc;

	if (hp_test_init_str("--file-prefix=pci_pa --iova=pa") < 0)
		return 2;
	rc = hp_pci_dev_open(edu_addr, &d);
	bool said = strstr(hp_last_error(), "--iova=va") != NULL;

	fprintf(stderr, "open with --iova=pa: %d: %s\n", rc, hp_last_error());
	hp_cleanup();
	return rc == -EINVAL && said && !d ? 0 : 1;
}

/* The drivers the devices had before the tests: the group's teardown binds them back. */
static char orig_drv[3][64];

static void restore(const char *addr, const char *orig)
{
	char path[256], cur[64];

	if (!addr)
		return;
	driver_of(addr, cur, sizeof(cur));
	if (!strcmp(cur, orig))
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", addr);
	write_sys(path, "\n");
	if (cur[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", addr);
		write_sys(path, addr);
	}
	if (orig[0])
		write_sys("/sys/bus/pci/drivers_probe", addr);
	driver_of(addr, cur, sizeof(cur));
	if (strcmp(cur, orig))
		fprintf(stderr, "%s: driver %s, not %s as before the tests\n", addr, cur, orig);
}

static int teardown(void **state)
{
	(void)state;
	hp_cleanup();
	restore(edu_addr, orig_drv[0]);
	restore(vnet_addr, orig_drv[1]);
	restore(vnet2_addr, orig_drv[2]);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	driver_of(edu_addr, orig_drv[0], sizeof(orig_drv[0]));
	if (vnet_addr)
		driver_of(vnet_addr, orig_drv[1], sizeof(orig_drv[1]));
	if (vnet2_addr)
		driver_of(vnet2_addr, orig_drv[2], sizeof(orig_drv[2]));
	fds_at_start = count_fds();
	free_at_start = hp_test_free_hugepages(0, 2 * MB) + hp_test_free_hugepages(1, 2 * MB);
	bind_to(edu_addr, drv_name);
	if (hp_test_init_str(va_mode ? "--iova=auto" : "--iova=pa") < 0) {
		print_error("hp_init: %s\n", hp_last_error());
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auto_mode_and_open),
	    cmocka_unit_test(test_dma_pool_and_memzone_node0),
	    cmocka_unit_test(test_dma_pool_and_memzone_node1),
	    cmocka_unit_test(test_interrupt_fires_and_rearms),
	    cmocka_unit_test(test_memory_grown_after_open_is_reachable_at_once),
	    cmocka_unit_test(test_memory_given_back_is_unreachable_until_it_grows_again),
	    cmocka_unit_test(test_concurrent_growth_keeps_every_page_mapped),
	    cmocka_unit_test(test_dma_map_of_outside_memory),
	    cmocka_unit_test(test_two_devices_share_the_container_and_virtio_tx_completes),
	    cmocka_unit_test(test_bad_input_says_why_and_leaks_nothing),
	    cmocka_unit_test(test_close_and_reopen),
	    cmocka_unit_test(test_kill9_then_open_at_once),
	    cmocka_unit_test(test_a_forked_child_leaves_the_parents_device_alone),
	    cmocka_unit_test(test_cleanup_leaves_nothing),
	};
	char vn[64] = "", *comma;
	ssize_t n;

	edu_addr = getenv("HP_VM_EDU");
	if (!edu_addr || !*edu_addr || access("/sys/bus/pci/devices", F_OK)) {
		fprintf(stderr, "no edu device (HP_VM_EDU unset): runs in the VM lane's device "
				"guests (test/vm/run.sh --edu)\n");
		return 77;
	}
	va_mode = getenv("HP_VM_IOMMU") && !strcmp(getenv("HP_VM_IOMMU"), "1");
	drv_name = va_mode ? "vfio-pci" : "uio_pci_generic";
	if (getenv("HP_VM_VNET"))
		snprintf(vn, sizeof(vn), "%s", getenv("HP_VM_VNET"));
	comma = strchr(vn, ',');
	if (comma) {
		*comma = 0;
		vnet2_addr = strdup(comma + 1);
	}
	vnet_addr = vn[0] ? strdup(vn) : NULL;
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = 0;
	if (argc > 1 && !strcmp(argv[1], "--hold"))
		return hold();
	if (argc > 1 && !strcmp(argv[1], "--refuse-pa"))
		return refuse_pa();
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	return cmocka_run_group_tests_name("pci", tests, setup, teardown);
}
