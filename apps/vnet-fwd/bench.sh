#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vnet-fwd's benchmark (doc/vnet-fwd.md): frames per second through vnet-fwd in a VM-lane guest
# (qemu, TCG) against xdp-fwd between two network namespaces of the same guest. The host pushes
# 60- and 1514-byte frames into one virtio-net device's socket for SECONDS each and counts what
# comes out of the other (test/apps/vnet_fwd_host.py --bench); bench-guest.sh runs the guest's
# side. Under TCG only the ratio and the profile mean anything.
# Usage: bench.sh BUILD-DIR [SECONDS]   (a build for the lane's CPU: -Dcpu_instruction_set=x86-64-v2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
secs=${2:-5}
cd "$build"
exec "$here/../../test/vm/run.sh" --timeout 1200 --iommu --vnet 2 \
	--host-cmd "python3 $here/../../test/apps/vnet_fwd_host.py --bench $secs" \
	-- bash "$here/bench-guest.sh" "$build" "$secs"
