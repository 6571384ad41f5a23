#!/bin/bash
# Build the guest kernel (patched or unpatched), boot it and run
# nozero-kselftest in it as root.
#
# usage: run-kselftest.sh patched|unpatched NOZERO_BENCH KSELFTEST PATCHES_DIR
# Exit status: the guest test's status, 77 when the harness cannot boot guests.
set -eu

if [ "$#" -ne 4 ]; then
	echo "usage: $0 patched|unpatched NOZERO_BENCH KSELFTEST PATCHES_DIR" >&2
	exit 2
fi
variant=$1
bench=$2
kselftest=$3
patches=$4

case "$variant" in
patched) build_flags="--patches $patches/linux-6.12 --config $patches/nozero.config" ;;
unpatched) build_flags="--no-patches --config $patches/nozero.config" ;;
*)
	echo "invalid variant: $variant (expected patched or unpatched)" >&2
	exit 2
	;;
esac

# CTest passes the kernel cache of its kernel_build_* fixtures, so each kernel
# is built once per test run.
if [ -n "${NOZERO_KERNEL_CACHE:-}" ]; then
	build_flags="$build_flags --cache-dir $NOZERO_KERNEL_CACHE"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # build_flags is a list of options
if ! "$bench" kernel build $build_flags | tee "$log"; then
	echo "kernel build failed ($variant)" >&2
	exit 1
fi
image=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
if [ ! -f "$image" ]; then
	echo "kernel build printed no image path (last line: '$image')" >&2
	exit 1
fi

echo "booting $image ($variant)"
"$bench" vm exec --kernel "$image" --uid 0 --cpus 2 --memory 2048 \
	--thp madvise --cwd / --timeout 2400 -- "$kselftest" | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	exit "$status"
fi

# The program skips the series' tests when the kernel lacks it, so check that
# each kernel is the one this case expects: a patched build that lost the
# series must fail here, not pass with skips.
if [ "$variant" = patched ] && grep -q 'MAP_NOZERO not supported' "$log"; then
	echo "the patched kernel does not support MAP_NOZERO: check kernel-patches/ and the build log" >&2
	exit 1
fi
if [ "$variant" = unpatched ] && ! grep -q 'MAP_NOZERO not supported' "$log"; then
	echo "the unpatched kernel reports MAP_NOZERO support: the --no-patches build applied the series" >&2
	exit 1
fi

# On the patched kernel only the unpatched-kernel case may skip: any other skip
# means a case did not run (no THP, a missing program) and proved nothing.
if [ "$variant" = patched ]; then
	skipped=$(grep -E '^ok [0-9]+ .* # SKIP' "$log" | grep -v '# SKIP the kernel has the MAP_NOZERO series' || true)
	if [ -n "$skipped" ]; then
		echo "cases skipped on the patched kernel:" >&2
		echo "$skipped" >&2
		exit 1
	fi
fi
