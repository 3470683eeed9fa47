#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The package lane (TAP; doc/packaging.md): build the Debian packages (./dev.sh package), run
# lintian, install them ON THIS MACHINE, check what they put where and how they were built,
# build and run a user's program against them (debian/tests), purge them again (also when a
# step fails) and check that nothing is left behind.
# Exit status: 0 every case passed, 1 one failed, 77 skipped (not root, HP_SKIP_PACKAGE=1, or a
# hugepool package already installed, which the lane would replace and then purge).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
debs=$top/build-deb
pkgs=(libhugepool0 libhugepool-dev hugepool-tools)

skip() { echo "1..0 # SKIP $*"; exit 77; }
[[ ${HP_SKIP_PACKAGE:-0} != 1 ]] || skip "HP_SKIP_PACKAGE=1"
[[ $(id -u) == 0 ]] || skip "the lane installs packages: it needs root"
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		skip "$p is installed here already: the lane would replace it and then purge it"
	fi
done

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)) failed=1; echo "not ok $n - $*"; }
check() { if [[ $1 == 0 ]]; then ok "$2"; else notok "$2"; fi; } # check STATUS DESCRIPTION
indent() { sed 's/^/# /'; }
echo "1..9"

"$top/dev.sh" package 2>&1 | indent
check $? "dpkg-buildpackage builds ${pkgs[*]}" && ((!failed)) || exit 1
lintian --fail-on error --display-info "$debs"/*.changes 2>&1 | indent
check $? "lintian: no errors"

# From here the machine changes: purge whatever happens.
trap 'apt-get purge -y -qq "${pkgs[@]}" >/dev/null 2>&1' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$debs"/*.deb 2>&1 |
	indent
check $? "apt-get install ./build-deb/*.deb" && ((!failed)) || exit 1
mapfile -t files < <(dpkg -L "${pkgs[@]}")

left=()
for f in "$top"/include/*.h; do
	[[ -f /usr/include/hugepool/${f##*/} ]] || left+=("${f##*/}")
done
check ${#left[@]} "every include/*.h is in /usr/include/hugepool${left:+ (missing: ${left[*]})}"

left=()
for f in $(dpkg -L hugepool-tools | grep '^/usr/bin/.'); do
	[[ -f /usr/share/man/man1/${f##*/}.1.gz ]] || left+=("${f##*/}")
done
check ${#left[@]} "every tool in /usr/bin has its man page${left:+ (missing: ${left[*]})}"

# Every compile of the package build (ninja -v in the log), and the installed hp_config.h.
awk '/^\[[0-9]+\/[0-9]+\] cc .* -c / { n++
	if (!/ -O3 / || / -O[0-2sg] / || !/ -march=x86-64-v2 / || !/ -DNDEBUG / || /-DHP_TEST_HOOKS/) {
		bad++; print "# " $0 } }
	END { print "# " n " compiles"; exit !(n > 0 && bad == 0) }' "$debs/dpkg-buildpackage.log" &&
	! grep -E '^#define HP_MEMPOOL_(DEBUG|STATS)' /usr/include/hugepool/hp_config.h
check $? "the release build: -O3 -march=x86-64-v2 -DNDEBUG, no test hooks, no mempool debug or stats"

for t in build-and-run hp-info-json; do
	(unset PKG_CONFIG_PATH; "$top/debian/tests/$t") 2>&1 | indent
	check $? "debian/tests/$t"
done

trap - EXIT
apt-get purge -y -qq "${pkgs[@]}" 2>&1 | indent
left=()
for path in "${files[@]}"; do
	# Directories other packages own (/usr/bin, ...) stay; nothing else may.
	[[ $path != /. ]] && [[ -e $path || -L $path ]] || continue
	[[ -d $path && ! -L $path ]] && dpkg-query -S "$path" >/dev/null 2>&1 && continue
	left+=("$path")
done
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qv 'not-installed' && left+=("$p")
done
check ${#left[@]} "apt-get purge leaves nothing behind${left:+ (left: ${left[*]})}"
exit $failed
