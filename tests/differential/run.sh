#!/usr/bin/env bash
# tests/differential/run.sh - the differential test (interpreter vs KVM) on machines without
# /dev/kvm: runs hvlab-difftest inside scripts/kvm-in-qemu, a QEMU (TCG) guest whose kernel
# gets /dev/kvm from QEMU's emulated AMD SVM.
#
# Usage: tests/differential/run.sh HVLAB_DIFFTEST [SEQUENCES [SEED]]   (default 3000, seed 1)
#
# Prints hvlab-difftest's output (a report per failing sequence, then the summary) and a
# final PASS or FAIL line; the status is non-zero on failure.
#
# It skips (prints "differential_kvm: skipped: REASON", exit 0) when this machine has
# /dev/kvm (test_differential's [kvm] case runs the same 3000 sequences natively there), or
# when the nested path can't work (see `scripts/kvm-in-qemu --check`), like tests/kvm_nested.
#
# Environment: DIFFTEST_TIMEOUT (seconds for the guest boot and the run, default 900), and
# whatever scripts/kvm-in-qemu reads.

set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 HVLAB_DIFFTEST [SEQUENCES [SEED]]" >&2
	exit 2
fi
BIN=$(realpath "$1")
SEQUENCES=${2:-3000}
SEED=${3:-1}
KVM_IN_QEMU="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/kvm-in-qemu"
TIMEOUT="${DIFFTEST_TIMEOUT:-900}"

skip() {
	echo "differential_kvm: skipped: $*"
	exit 0
}

[ -f "$BIN" ] || { echo "differential_kvm: error: missing $BIN" >&2; exit 2; }
if [ -e /dev/kvm ]; then
	skip "/dev/kvm present here; test_differential's [kvm] case runs natively"
fi
if ! check_out=$("$KVM_IN_QEMU" --check 2>&1); then
	skip "$(printf '%s\n' "$check_out" | sed -n 's/^kvm-in-qemu: check: FAIL: //p' | tail -n 1)"
fi
if ! prep_out=$("$KVM_IN_QEMU" --prepare 2>&1); then
	printf '%s\n' "$prep_out" | sed 's/^/  /' >&2
	skip "provisioning failed: $(printf '%s\n' "$prep_out" | sed -n 's/^kvm-in-qemu: error: //p' | tail -n 1)"
fi

start=$(date +%s)
rc=0
"$KVM_IN_QEMU" -t "$TIMEOUT" "$BIN" --sequences "$SEQUENCES" --seed "$SEED" --progress || rc=$?
seconds=$(($(date +%s) - start))

case $rc in
0) echo "PASS: $SEQUENCES sequences (seed $SEED) agree between the interpreter and nested KVM (${seconds} s with the guest boot)" ;;
1) echo "FAIL: interpreter and KVM disagree (reports above; rerun one with the 'reproduce:' line, in scripts/kvm-in-qemu)" ;;
4) echo "FAIL: KVM did not work inside the QEMU guest (see above)" ;;
124) echo "FAIL: timed out after ${TIMEOUT} s (DIFFTEST_TIMEOUT)" ;;
125) echo "FAIL: scripts/kvm-in-qemu could not run the guest (see above)" ;;
*) echo "FAIL: hvlab-difftest exited with status $rc" ;;
esac
[ "$rc" = 0 ]
