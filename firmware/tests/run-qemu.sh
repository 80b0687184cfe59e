#!/usr/bin/env bash
# run-qemu.sh - boot every firmware image under QEMU (TCG) and check that it
# behaves as documented in its source.
#
#   firmware/tests/run-qemu.sh [IMAGE_DIR]      (default: build/firmware)
#
# Needs qemu-system-x86_64 (Debian: apt-get install qemu-system-x86).
# Each image runs as
#   qemu-system-x86_64 -bios IMAGE -nographic -no-reboot \
#       -device isa-debug-exit,iobase=0xf4,iosize=1
# Images that end in a hang (HLT) are stopped by `timeout` (status 124);
# a triple fault with -no-reboot makes QEMU exit with status 0; a write of
# v to port 0xF4 makes it exit with (v << 1) | 1.
set -u

dir=${1:-build/firmware}
qemu=${QEMU:-qemu-system-x86_64}
hang_seconds=${HANG_SECONDS:-5}
passed=0
failed=0
serial=$(mktemp)
log=$(mktemp)
trap 'rm -f "$serial" "$log"' EXIT

if ! command -v "$qemu" >/dev/null; then
  echo "run-qemu.sh: $qemu not found" >&2
  exit 2
fi

# run NAME TIMEOUT -> sets $out (serial output, CR removed) and $status;
# QEMU's interrupt/exception log goes to $log
run() {
  local image=$dir/$1.bin
  if [[ ! -f $image ]]; then
    echo "run-qemu.sh: missing $image" >&2
    out="" status=255
    return
  fi
  timeout "$2" "$qemu" -bios "$image" -nographic -no-reboot \
      -device isa-debug-exit,iobase=0xf4,iosize=1 -d int,cpu_reset -D "$log" \
      </dev/null >"$serial" 2>/dev/null
  status=$?
  out=$(tr -d '\r' <"$serial")
}

# expect NAME TIMEOUT STATUS [--triple-fault] [--last LAST] LINE...
#   QEMU's exit status must be STATUS, every LINE must appear as a whole line
#   of the serial output, with --triple-fault QEMU must have logged a triple
#   fault, and with --last the output must end with the line LAST.
expect() {
  local name=$1 seconds=$2 want=$3 triple=0 last=""
  shift 3
  while [[ ${1:-} == --* ]]; do
    case $1 in
      --triple-fault) triple=1; shift ;;
      --last) last=$2; shift 2 ;;
      *) echo "run-qemu.sh: bad option $1" >&2; exit 2 ;;
    esac
  done
  run "$name" "$seconds"
  local ok=1 line
  [[ $status == "$want" ]] || ok=0
  if (( triple )) && ! grep -q '^Triple fault' "$log"; then
    echo "    $name: QEMU logged no triple fault"
    ok=0
  fi
  if [[ -n $last && $(tail -n 1 <<<"$out") != "$last" ]]; then
    echo "    $name: the output does not end with: $last"
    ok=0
  fi
  for line in "$@"; do
    grep -qxF -- "$line" <<<"$out" || ok=0
  done
  if (( ok )); then
    echo "PASS $name (status $status)"
    passed=$((passed + 1))
  else
    echo "FAIL $name: status $status (want $want); serial output:"
    sed 's/^/    | /' <<<"$out"
    failed=$((failed + 1))
  fi
}

expect firstboot "$hang_seconds" 124 --last "firstboot done: cli; hlt" \
  "hvlab firstboot" \
  "16-bit real mode: CS=F000, running from the ROM alias at 0xF0000" \
  "real mode: in al, dx from port 0x3FB (UART LCR) = 0x03" \
  "32-bit protected mode: flat 4 GiB code and data segments from the GDT" \
  "64-bit long mode with 4-level paging" \
  "self-checks passed" \
  "firstboot done: cli; hlt"

expect debug-exit 20 85 \
  "hvlab test debug-exit: writing 0x2A to port 0xF4 (expect exit status 85)"
expect triple-fault 20 0 --triple-fault \
  "hvlab test triple-fault: real mode, lidt limit 0, int3 (expect a triple fault)"
expect halt-sti "$hang_seconds" 124 \
  "hvlab test halt-sti: sti; hlt with no interrupt source (expect a hang)"
expect unimplemented "$hang_seconds" 124 \
  "hvlab test unimplemented: executing the x87 instruction fld1" \
  "unimplemented: fld1 executed (this CPU has an x87 FPU)"
expect long-mode-fault 20 0 --triple-fault \
  "hvlab test long-mode-fault: 64-bit mode, reading non-canonical 0x0000800000000000 with no IDT (expect a triple fault)"

echo "$passed passed, $failed failed"
(( failed == 0 ))
