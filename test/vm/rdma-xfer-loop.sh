#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# VM lane, one guest: rdma-xfer's server and client on one rxe device and one
# address (rxe loops the traffic back inside the device); every size, every byte verified.
# Exit 0 when both ends say so, 77 outside the VM lane. Usage: rdma-xfer-loop.sh RDMA-XFER [ARG...]
X=$1
shift
[ -n "${HP_VM_ADDR:-}" ] || { echo "not in the VM lane (HP_VM_ADDR unset): no rxe0 here" >&2; exit 77; }
port=$((18000 + RANDOM % 1000))
out=$(mktemp)
# two programs at once: each its own --file-prefix (its telemetry socket names the instance)
"$X" --file-prefix=xfer-server -- --server --bind "$HP_VM_ADDR" --port "$port" >"$out" 2>&1 &
srv=$!
"$X" --file-prefix=xfer-client -- --connect "$HP_VM_ADDR" --port "$port" "$@"
rc=$?
[ "$rc" = 0 ] || kill "$srv" 2>/dev/null
wait "$srv" || rc=1
sed 's/^/server: /' "$out"
rm -f "$out"
exit "$rc"
