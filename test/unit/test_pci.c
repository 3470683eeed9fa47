/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci without a device (the VM lane's test/vm/test_pci.c does real DMA): argument checks and
 * their sentences, addresses that name nothing or a device bound to a kernel driver, hp_dma_map
 * ranges kept while no container exists, and the --iova=auto decision on this machine.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hp_pci.h>

#include "hp_test.h"

static bool has(const char *needle)
{
	if (strstr(hp_last_error(), needle))
		return true;
	print_error("sentence \"%s\" lacks \"%s\"\n", hp_last_error(), needle);
	return false;
}

static void test_open_before_init_says_to_start_the_runtime(void **state)
{
	struct hp_pci_dev *d = (void *)1;

	(void)state;
	assert_int_equal(hp_pci_dev_open("0000:00:04.0", &d), -EINVAL);
	assert_true(has("hp_init"));
	assert_null(d);
}

static void test_bad_addresses_are_refused_with_a_sentence(void **state)
{
	static const char *bad[] = {"",	   "0000:00:04",    "00:04.8",	     "0000:00:20.0",
				    "xyz", "0000:00:04.0 ", "00000:00:04.0", "0000:000:04.0"};
	struct hp_pci_dev *d = NULL;

	(void)state;
	hp_test_init(8, "%s", "");
	assert_int_equal(hp_pci_dev_open(NULL, &d), -EINVAL);
	assert_int_equal(hp_pci_dev_open("0000:00:04.0", NULL), -EINVAL);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hp_pci_dev_open(bad[i], &d), -EINVAL);
		assert_true(has("0000:00:04.0"));
	}
	assert_int_equal(hp_pci_dev_open("0000:ff:1f.7", &d), -ENODEV);
	assert_true(has("hp-devbind"));
	assert_int_equal(hp_pci_dev_open("ff:1f.7", &d), -ENODEV); /* short form: domain 0 */
	assert_true(has("0000:ff:1f.7"));
	assert_null(d);
}

/* A device of this machine bound to a kernel driver (not vfio-pci, not uio): refused. */
static void test_device_bound_to_a_kernel_driver_is_refused(void **state)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	char path[512], target[256] = "", addr[256] = "";
	struct hp_pci_dev *d = NULL;

	(void)state;
	while (dir && !addr[0] && (e = readdir(dir))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strstr(target, "vfio-pci") && !strstr(target, "uio_pci_generic"))
			snprintf(addr, sizeof(addr), "%s", e->d_name);
	}
	if (dir)
		closedir(dir);
	if (!addr[0]) {
		print_message("no PCI device bound to a kernel driver here\n");
		skip();
	}
	hp_test_init(8, "%s", "");
	assert_int_equal(hp_pci_dev_open(addr, &d), -EPERM);
	assert_true(has(strrchr(target, '/') + 1));
	assert_true(has("hp-devbind --bind=vfio-pci"));
	assert_null(d);
}

static void test_calls_on_no_device_say_what_to_pass(void **state)
{
	struct hp_pci_dev *bogus = calloc(1, 4096);
	uint8_t b[4];
	size_t len = 7;

	(void)state;
	assert_non_null(bogus);
	hp_test_init(8, "%s", "");
	assert_int_equal(hp_pci_dev_close(NULL), -EINVAL);
	assert_int_equal(hp_pci_dev_close(bogus), -EINVAL);
	assert_true(has("not an open device"));
	assert_null(hp_pci_dev_bar(NULL, 0, &len));
	assert_int_equal(errno, EINVAL);
	assert_null(hp_pci_dev_bar(bogus, 0, &len));
	assert_int_equal(len, 7);
	assert_int_equal(hp_pci_dev_bar_flags(NULL, 0, NULL), 0);
	assert_int_equal(hp_pci_dev_bar_read(NULL, 0, 0, b, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_bar_write(bogus, 0, 0, b, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_config_read(NULL, 0, b, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_config_write(NULL, 0, b, 4), -EINVAL);
	assert_int_equal(hp_pci_dev_find_cap(NULL, 0x11, 0), -EINVAL);
	assert_int_equal(hp_pci_dev_bus_master(NULL, true), -EINVAL);
	assert_int_equal(hp_pci_dev_irq_fd(NULL, 0), -EINVAL);
	assert_int_equal(hp_pci_dev_irq_rearm(bogus, 0), -EINVAL);
	assert_null(hp_pci_dev_driver(NULL));
	assert_null(hp_pci_dev_addr(bogus));
	assert_int_equal(hp_pci_dev_iova_mode(NULL), 0);
	assert_int_equal(hp_pci_dev_numa_node(NULL), -EINVAL);
	assert_int_equal(hp_pci_dev_id(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(hp_dma_stats(NULL), -EINVAL);
	free(bogus);
}

static void test_dma_map_checks_ranges_and_keeps_them_until_cleanup(void **state)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 16 * pg;
	struct hp_dma_stats st;
	uint8_t *buf, *rt;

	(void)state;
	hp_test_init(8, "%s", "");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	rt = hp_malloc(pg, pg, 0);
	assert_non_null(rt);
	assert_int_equal(hp_dma_map(NULL, len), -EINVAL);
	assert_int_equal(hp_dma_map(buf, 0), -EINVAL);
	assert_int_equal(hp_dma_map(buf + 8, pg), -EINVAL);
	assert_true(has("whole pages"));
	assert_int_equal(hp_dma_map(buf, pg + 1), -EINVAL);
	assert_int_equal(hp_dma_map((void *)(UINTPTR_MAX & ~(pg - 1)), 2 * pg), -EINVAL);
	assert_true(has("wraps"));
	assert_int_equal(hp_dma_map(rt, pg), -EINVAL);
	assert_true(has("runtime memory"));
	assert_int_equal(hp_dma_map(buf, 8 * pg), 0);
	assert_int_equal(hp_dma_map(buf + 4 * pg, 8 * pg), -EINVAL);
	assert_true(has("overlaps"));
	assert_int_equal(hp_dma_map(buf + 8 * pg, 8 * pg), 0); /* adjacent is fine */
	assert_int_equal(hp_dma_stats(&st), 0);
	assert_int_equal(st.user_maps, 2);
	assert_false(st.container);
	assert_int_equal(st.maps, 0); /* no device: nothing in a container yet */
	assert_int_equal(hp_dma_unmap(buf, 4 * pg), -EINVAL);
	assert_true(has("exactly"));
	assert_int_equal(hp_dma_unmap(buf, 8 * pg), 0);
	assert_int_equal(hp_dma_unmap(buf, 8 * pg), -EINVAL);
	hp_free(rt);
	hp_cleanup(); /* forgets the range still mapped */
	hp_test_init(8, "%s", "");
	assert_int_equal(hp_dma_stats(&st), 0);
	assert_int_equal(st.user_maps, 0);
	assert_int_equal(st.devices, 0);
	munmap(buf, len);
}

static bool dir_has_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool any = false;

	while (d && !any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

static void test_auto_mode_on_this_machine(void **state)
{
	bool iommu = dir_has_entries("/sys/kernel/iommu_groups");
	bool vfio = !access("/dev/vfio/vfio", F_OK) || !access("/sys/module/vfio", F_OK);
	enum hp_iova_mode want;
	const char *why;

	(void)state;
	if (iommu && !vfio) {
		print_message("an IOMMU without a loaded vfio: the module file decides\n");
		skip();
	}
	want = iommu && vfio ? HP_IOVA_VA : hp_test_can_read_pfn() ? HP_IOVA_PA : HP_IOVA_VA;
	assert_int_equal(hp_iova_mode_probe(), want);
	why = hp_iova_mode_reason();
	assert_non_null(why);
	print_message("auto: %s (%s)\n", want == HP_IOVA_PA ? "PA" : "VA", why);
	assert_non_null(strstr(why, iommu ? "IOMMU is on" : "no IOMMU"));
	hp_test_init(8, "--iova=auto");
	assert_int_equal(hp_iova_mode(), want);
	hp_cleanup();
	hp_test_init(8, "--iova=va");
	assert_int_equal(hp_iova_mode(), HP_IOVA_VA);
	assert_string_equal(hp_iova_mode_reason(), "asked with --iova=va");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_open_before_init_says_to_start_the_runtime,
				      hp_test_teardown),
	    cmocka_unit_test_teardown(test_bad_addresses_are_refused_with_a_sentence,
				      hp_test_teardown),
	    cmocka_unit_test_teardown(test_device_bound_to_a_kernel_driver_is_refused,
				      hp_test_teardown),
	    cmocka_unit_test_teardown(test_calls_on_no_device_say_what_to_pass, hp_test_teardown),
	    cmocka_unit_test_teardown(test_dma_map_checks_ranges_and_keeps_them_until_cleanup,
				      hp_test_teardown),
	    cmocka_unit_test_teardown(test_auto_mode_on_this_machine, hp_test_teardown),
	};

	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
