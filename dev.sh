#!/usr/bin/env bash
# hugepool's one entry point for people and CI (run as root on Debian 12):
#   ./dev.sh demo    install what is missing, build, reserve hugepages, run hp-info, xdp-fwd between
#                    two namespaces, numa-bench and hp-demo
#   ./dev.sh test    the same set-up, then every test lane; ends with "N passed, N failed, N skipped"
#                    (the system lane changes the machine: it sets the 1 GiB hugepage pool and
#                    sets it back)
#   ./dev.sh package build the Debian packages into build-deb/ (doc/packaging.md)
#   ./dev.sh deps | build | hugepages | package-test    one step (or lane) alone
#   ./dev.sh bench-compare [BASE-REV]    builds BASE-REV (default: main) and the work tree side
#                    by side in build-bench/, runs mempool-bench and ring-bench from both in
#                    alternating rounds on one CPU and prints each cell's speed change/base with
#                    its spread, marking cells more than 5% slower (doc/benchmarks.md); never a
#                    test lane. HP_BENCH_ROUNDS (default 5), HP_BENCH_CPU (default 1),
#                    HP_BENCH_LOCK (run each benchmark under flock of that file)
# Environment: HP_BUILD (build dir, default build), HP_PAGES (2 MiB pages wanted free on node 0,
# default 1280), HP_STRESS_SECONDS (length of each stress test, default 5), HP_SKIP_VM=1 and
# HP_SKIP_SANITIZERS=1 to leave those lanes out (they are then counted as skipped, never passed).
# The package lane installs the packages on this machine and purges them; HP_SKIP_PACKAGE=1
# leaves it out.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
build=${HP_BUILD:-build}

packages=(gcc meson ninja-build pkg-config python3 libnuma-dev libibverbs-dev
	librdmacm-dev rdma-core ibverbs-providers ibverbs-utils rdmacm-utils libcmocka-dev clang
	clang-format libclang-rt-14-dev
	libdpdk-dev dpdk-dev qemu-system-x86 busybox-static cpio kmod iproute2 doxygen
	libxdp-dev libbpf-dev iputils-ping ethtool)
# What ./dev.sh package needs, besides debian/control's build dependencies (apt-get build-dep).
package_tools=(debhelper dpkg-dev fakeroot build-essential lintian)

say() { printf '\n== %s\n' "$*"; }

need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "dev.sh: hugepages, pagemap frame numbers and package installs need root: run sudo $0 $*" >&2
		exit 1
	fi
}

deps() { # deps [PACKAGE...]: install what is missing (default: the project's packages)
	local want=("$@") missing=() p
	((${#want[@]})) || want=("${packages[@]}")
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if ((${#missing[@]})); then
		say "installing: ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
}

# Every lane builds with -Dtest_hooks=true: the tests of memory hooks and of the fake RDMA path
# need them (a build without them skips those tests, saying why).
setup_dir() { # setup_dir DIR [meson options...]
	local dir=$1
	shift
	set -- -Dtest_hooks=true "$@"
	if [[ ! -f $dir/build.ninja ]]; then
		meson setup "$dir" --werror "$@" >"$top/.setup-$(basename "$dir").log" 2>&1 ||
			{ cat "$top/.setup-$(basename "$dir").log"; return 1; }
		rm -f "$top/.setup-$(basename "$dir").log"
	else
		meson configure "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

build() {
	say "building in $build"
	setup_dir "$build"
}

# Make sure node 0 has HP_PAGES free 2 MiB pages (adding to the pool, never taking from it),
# and that the 1 GiB pool has 2 pages where the kernel has one (tests of 1 GiB pages use them).
hugepages() {
	local want=${HP_PAGES:-1280} sys=/sys/kernel/mm/hugepages
	local total free g
	total=$(cat $sys/hugepages-2048kB/nr_hugepages)
	free=$(cat $sys/hugepages-2048kB/free_hugepages)
	if ((free < want)); then
		echo $((total + want - free)) >$sys/hugepages-2048kB/nr_hugepages
	fi
	g=$sys/hugepages-1048576kB/nr_hugepages
	if [[ -w $g ]] && (($(cat $g) < 2)); then
		echo 2 >$g 2>/dev/null || true
	fi
	say "hugepages: $(cat $sys/hugepages-2048kB/free_hugepages) free 2 MiB pages" \
		"$([[ -r $g ]] && echo ", $(cat ${g%/*}/free_hugepages) free 1 GiB pages")"
}

demo() {
	need_root demo
	deps
	build
	hugepages
	say "hp-info: what this machine has"
	"$build/apps/hp-info/hp-info"
	say "xdp-fwd: packets between two network namespaces, in hugepool buffers"
	apps/xdp-fwd/demo.sh "$build/apps/xdp-fwd/xdp-fwd" test/apps/test_xdp_fwd.py
	say "numa-bench: latency and bandwidth for every (CPU node, memory node) pair"
	"$build/apps/numa-bench/numa-bench" --size 64 --compare-4k
	say "hp-demo: reserve per node, walk the memory, give it back"
	"$build/apps/hp-demo/hp-demo"
}

# run_suites LOGNAME DIR SUITE... : run meson suites, keep the log apart for the summary
logs=()
run_suites() {
	local name=$1 dir=$2 args=()
	shift 2
	for s in "$@"; do args+=(--suite "$s"); done
	say "tests: $name ($*)"
	meson test -C "$dir" --no-rebuild --print-errorlogs --logbase "$name" "${args[@]}" || true
	logs+=("$dir/meson-logs/$name.json")
}

# Debian packages, built with dpkg-buildpackage in a copy of the tree (so the tree stays clean,
# wherever it lives); the .debs, .changes, .buildinfo and source land in build-deb/.
debs=$top/build-deb
package() {
	local missing=() p tmp src version
	for p in "${package_tools[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if ((${#missing[@]})); then
		need_root package
		deps "${missing[@]}"
	fi
	if ! (cd "$top" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
		need_root package
		say "installing the build dependencies of debian/control"
		DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$top"
	fi
	version=$(dpkg-parsechangelog -l "$top/debian/changelog" -SVersion)
	say "packaging hugepool $version into build-deb/"
	tmp=$(mktemp -d)
	src=$tmp/hugepool-$version
	mkdir "$src"
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			tar -C "$top" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$src" -xf -
	else
		tar -C "$top" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
	fi
	rm -rf "$debs"
	mkdir -p "$debs"
	if ! (cd "$src" && dpkg-buildpackage -us -uc -jauto) >"$debs/dpkg-buildpackage.log" 2>&1; then
		tail -40 "$debs/dpkg-buildpackage.log"
		echo "dev.sh package: dpkg-buildpackage failed; the whole log is build-deb/dpkg-buildpackage.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	find "$tmp" -maxdepth 1 -type f -exec mv -t "$debs" {} +
	rm -rf "$tmp"
	ls -1 "$debs"
}

# The package lane (test/package/lane.sh): it installs the packages ON THIS MACHINE and purges
# them. Its TAP is kept as a meson-style log line for the summary.
run_package_lane() {
	local log=$top/$build/meson-logs/package.json out st=0 result=FAIL
	say "tests: package (builds the Debian packages, installs them on this machine, purges them)"
	mkdir -p "${log%/*}"
	out=$(mktemp)
	"$top/test/package/lane.sh" 2>&1 | tee "$out" || st=$?
	case $st in 0) result=OK ;; 77) result=SKIP ;; esac
	python3 -c 'import json, sys; print(json.dumps({"name": "package", "result": sys.argv[1],
		"stdout": open(sys.argv[2]).read()}))' "$result" "$out" >"$log"
	rm -f "$out"
	logs+=("$log")
}

# Before/after speed: the base revision from git archive and the work tree (uncommitted edits
# included), each built with the same options into build-bench/ (git-ignored); only the two
# benchmarks are built.
bench_compare() {
	local rev dir=$top/build-bench
	rev=$(git -C "$top" rev-parse --verify "${1:-main}^{commit}")
	say "bench-compare: base $(git -C "$top" log -1 --format='%h %s' "$rev"), change: the work tree"
	# the base is extracted and built afresh unless the last run's was the same revision
	if [[ $(cat "$dir/base-src/.rev" 2>/dev/null) != "$rev" ]]; then
		rm -rf "$dir/base-src" "$dir/base"
		mkdir -p "$dir/base-src"
		git -C "$top" archive "$rev" | tar -C "$dir/base-src" -xf -
		echo "$rev" >"$dir/base-src/.rev"
	fi
	for side in base change; do
		local src=$top
		[[ $side == base ]] && src=$dir/base-src
		if [[ ! -f $dir/$side/build.ninja ]]; then
			meson setup "$dir/$side" "$src" -Dtests=false >"$dir/$side.setup.log" 2>&1 ||
				{ cat "$dir/$side.setup.log"; return 1; }
		fi
		ninja -C "$dir/$side" apps/mempool-bench/mempool-bench apps/ring-bench/ring-bench
	done
	python3 "$top/test/tools/bench_compare.py" --rounds "${HP_BENCH_ROUNDS:-5}" \
		"$dir/base" "$dir/change"
}

run_tests() {
	need_root test
	deps
	build
	hugepages
	export HP_STRESS_SECONDS=${HP_STRESS_SECONDS:-5}
	run_suites lint "$build" lint
	run_suites unit "$build" unit fuzz
	say "the system lane changes the machine: hp-info sets the 1 GiB hugepage pool, then sets it back"
	run_suites system "$build" system
	run_suites stress "$build" stress
	run_suites net "$build" net
	if [[ ${HP_SKIP_SANITIZERS:-0} != 1 ]]; then
		say "building with AddressSanitizer + UndefinedBehaviorSanitizer"
		setup_dir "$build-asan" -Db_sanitize=address,undefined -Db_lundef=false -Ddpdk_compare=disabled
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			run_suites asan "$build-asan" unit stress
		say "building with ThreadSanitizer"
		setup_dir "$build-tsan" -Db_sanitize=thread -Db_lundef=false -Ddpdk_compare=disabled
		TSAN_OPTIONS=halt_on_error=1 run_suites tsan "$build-tsan" stress
		say "building with mempool debug cookies and statistics"
		setup_dir "$build-debug" -Dmempool_debug=true -Dmempool_stats=true -Ddpdk_compare=disabled
		run_suites debug "$build-debug" unit
	fi
	if [[ ${HP_SKIP_VM:-0} != 1 ]]; then
		# qemu's TCG emulates an x86-64-v2/AVX2-class CPU, not every extension of the host
		# (AVX-512 here): the guest runs binaries built for that baseline.
		say "building for the VM lane's emulated CPU (x86-64-v2)"
		setup_dir "$build-vm" -Dcpu_instruction_set=x86-64-v2 -Ddpdk_compare=disabled
		run_suites vm "$build-vm" vm
	fi
	run_package_lane
	say "summary"
	python3 "$top/test/summary.py" "${logs[@]}"
}

case ${1:-} in
demo) demo ;;
test) run_tests ;;
deps) need_root deps; deps ;;
build) build ;;
hugepages) need_root hugepages; hugepages ;;
package) package ;;
bench-compare) bench_compare "${2:-}" ;;
package-test)
	need_root package-test
	run_package_lane
	python3 "$top/test/summary.py" "${logs[@]}"
	;;
*)
	sed -n '2,/^set /{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
