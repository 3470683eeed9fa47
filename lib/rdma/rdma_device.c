/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening a device with an error that says what to do when there is none, and the fork-safety
 * opt-in. No state of its own: fork_init's "too late" test reads the flag rdma_map.c sets.
 */
#include <stdio.h>
#include <string.h>

#include <infiniband/verbs.h>

#include "eal/eal_internal.h"
#include "rdma_internal.h"

#define RXE_HINT                                                                                   \
	"without RDMA hardware, add a soft-RoCE device: modprobe rdma_rxe && "                     \
	"rdma link add rxe0 type rxe netdev eth0 (see doc/rdma.md)"

static struct ibv_context *open_dev(struct ibv_device **list, int n, const char *name)
{
	char names[256] = "";
	size_t used = 0;
	int i;

	for (i = 0; i < n; i++) {
		const char *dn = ibv_get_device_name(list[i]);
		struct ibv_context *ctx;

		if (name && strcmp(dn, name)) {
			used +=
			    snprintf(names + used, used < sizeof(names) ? sizeof(names) - used : 0,
				     "%s%s", used ? ", " : "", dn);
			if (used >= sizeof(names))
				used = sizeof(names) - 1;
			continue;
		}
		ctx = ibv_open_device(list[i]);
		if (!ctx) {
			int err = errno ? errno : ENODEV;

			return hp_fail_ptr(-err,
					   "cannot open RDMA device %s: %s; check "
					   "/dev/infiniband permissions (and that ib_uverbs is "
					   "loaded)",
					   dn, strerror(err));
		}
		return ctx;
	}
	if (!n)
		return hp_fail_ptr(-ENODEV, "no RDMA device (ibv_devices lists none); " RXE_HINT);
	return hp_fail_ptr(-ENODEV, "no RDMA device named %s; there is: %s", name, names);
}

HP_API struct ibv_context *hp_rdma_device_open(const char *name)
{
	struct ibv_device **list;
	struct ibv_context *ctx;
	int n = 0;

	errno = 0;
	list = ibv_get_device_list(&n);
	if (!list) {
		if (errno == ENOSYS || !errno)
			return hp_fail_ptr(-ENODEV, "no RDMA device (the kernel has no RDMA "
						    "support loaded); " RXE_HINT);
		return hp_fail_ptr(-errno, "cannot list RDMA devices: %s; " RXE_HINT,
				   strerror(errno));
	}
	ctx = open_dev(list, n, name);
	ibv_free_device_list(list);
	return ctx;
}

HP_API int hp_rdma_fork_init(void)
{
	int rc;

	if (ibv_is_fork_initialized() == IBV_FORK_UNNEEDED)
		return 0;
	if (rdma_verbs_registered())
		return hp_fail(-EBUSY, "hp_rdma_fork_init: memory was registered already; call it "
				       "before the first hp_rdma_map_create() of the process");
	rc = ibv_fork_init();
	if (rc) /* rdma-core gives a positive errno */
		return hp_fail(-rc, "ibv_fork_init failed: %s", strerror(rc));
	return 0;
}
