#!/usr/bin/env bash
# run-qemu.sh - boot the hvlab BIOS in QEMU (TCG, the "pc" machine) with the
# self-checking test disk and a few disk/memory configurations, and check
# what it prints and how it exits.
#
#   firmware/bios/tests/run-qemu.sh [FIRMWARE_DIR]     (default: build/firmware)
#
# FIRMWARE_DIR holds bios.bin and bios-test.img (cmake --build <dir> --target
# hvlab_bios).  Needs qemu-system-x86_64 and nasm (for the no-fw_cfg variant).
# Each scenario prints PASS or FAIL (with the serial output on failure);
# the script's exit status is 0 only if all pass.  VERBOSE=1 prints every
# run's serial output.
#
# How the test disk reports: its last line is "bios-test: PASS" and it
# writes 0x10 to isa-debug-exit (QEMU exits with 33), or "bios-test: FAIL"
# and 0x11 (exit 35).  A run that must end halted (no boot disk) is stopped
# by `timeout` (status 124).
set -u

dir=${1:-build/firmware}
qemu=${QEMU:-qemu-system-x86_64}
here=$(cd "$(dirname "$0")" && pwd)
bios=$dir/bios.bin
testdisk=$dir/bios-test.img
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in "$bios" "$testdisk"; do
  if [[ ! -f $f ]]; then
    echo "run-qemu.sh: missing $f (cmake --build <build> --target hvlab_bios)" >&2
    exit 2
  fi
done
if ! command -v "$qemu" >/dev/null; then
  echo "run-qemu.sh: $qemu not found" >&2
  exit 2
fi

# make_data_disk FILE SIZE: a sparse disk with markers the test disk looks for
make_data_disk() {
  local file=$1 size=$2 sectors
  rm -f "$file"
  truncate -s "$size" "$file"
  printf 'hvlab data disk' | dd of="$file" conv=notrunc status=none
  sectors=$(( $(stat -c %s "$file") / 512 ))
  printf 'hvlab last sector' | dd of="$file" bs=512 seek=$((sectors - 1)) conv=notrunc status=none
  if (( sectors > 0x10000040 )); then
    printf 'hvlab lba48 sector' | dd of="$file" bs=512 seek=$((0x10000010)) conv=notrunc status=none
  fi
}

# run NAME SECONDS BIOS QEMU-ARGS... -> $out (serial output, no CRs), $status.
# Types "hv" on COM1 as soon as the test disk asks for it.
run() {
  local name=$1 seconds=$2 rom=$3
  shift 3
  local serial=$work/$name.out fifo=$work/$name.in
  rm -f "$serial" "$fifo"
  : >"$serial"
  mkfifo "$fifo"
  (
    for _ in $(seq 1 $((seconds * 5))); do
      if grep -q "waiting 5 s for 'hv' on COM1" "$serial"; then
        printf 'hv'
        break
      fi
      sleep 0.2
    done
    sleep "$seconds"                    # keep stdin open while QEMU runs
  ) >"$fifo" &
  local typist=$!
  timeout "$seconds" "$qemu" -machine pc -accel tcg -bios "$rom" \
      -display none -serial stdio -monitor none -no-reboot \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" \
      <"$fifo" >"$serial" 2>"$work/$name.err"
  status=$?
  kill "$typist" 2>/dev/null
  wait "$typist" 2>/dev/null
  out=$(tr -d '\r' <"$serial")
  if [[ ${VERBOSE:-0} == 1 ]]; then
    sed "s/^/    $name | /" <<<"$out"
  fi
}

# expect NAME SECONDS STATUS BIOS "QEMU ARGS" [--absent LINE] LINE...
#   every LINE must appear as a whole line of the output, no --absent LINE may
expect() {
  local name=$1 seconds=$2 want=$3 rom=$4 args=$5
  shift 5
  local -a absent=() present=()
  while (( $# )); do
    if [[ $1 == --absent ]]; then absent+=("$2"); shift 2
    else present+=("$1"); shift; fi
  done
  # shellcheck disable=SC2086
  run "$name" "$seconds" "$rom" $args
  local ok=1 line why=""
  [[ $status == "$want" ]] || { ok=0; why="exit status $status, want $want"; }
  for line in "${present[@]}"; do
    if ! grep -qxF -- "$line" <<<"$out"; then ok=0; why="missing line: $line"; fi
  done
  for line in "${absent[@]}"; do
    if grep -qxF -- "$line" <<<"$out"; then ok=0; why="unexpected line: $line"; fi
  done
  if (( ok )); then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $why; serial output:"
    sed 's/^/    | /' <<<"$out"
    sed 's/^/    stderr: /' "$work/$name.err"
    failed=$((failed + 1))
  fi
}

copy_test_disk() {                      # the test disk writes: use a copy
  cp "$testdisk" "$work/test.img"
}
disk="file=$work/test.img,format=raw,if=ide,index=0"

# 1. the test disk alone, 2 CPUs, QEMU's default e1000 NIC
copy_test_disk
expect bios-test 60 33 "$bios" "-m 128 -smp 2 -drive $disk" \
  --absent "    (nothing typed on COM1: serial input check skipped)" \
  "hvlab BIOS: 128 MiB RAM (636 KiB base), 2 CPUs, 1 disk, 6 PCI functions" \
  "    MP: 2 CPU(s), 1 IOAPIC" \
  "    ACPI: RSDT FACP DSDT APIC" \
  "bios-test: 15 groups, 0 failed" \
  "bios-test: PASS"

# 2. a 200 GiB (sparse) second disk on the primary slave: LBA48, 255 heads
copy_test_disk
make_data_disk "$work/big.img" 200G
expect lba48-slave 60 33 "$bios" \
  "-m 128 -drive $disk -drive file=$work/big.img,format=raw,if=ide,index=1" \
  "disk 81h: QEMU HARDDISK, 204800 MiB (419430400 sectors, LBA48), CHS 1024/255/63" \
  "    81h: 204800 MiB, CHS 1024/255/63" \
  "PASS second disk (81h)" \
  "bios-test: PASS"

# 3. a 1 GiB second disk on the secondary master: LBA-assisted 64 heads
copy_test_disk
make_data_disk "$work/small.img" 1G
expect secondary-master 60 33 "$bios" \
  "-m 128 -drive $disk -drive file=$work/small.img,format=raw,if=ide,index=2" \
  "disk 81h: QEMU HARDDISK, 1024 MiB (2097152 sectors, LBA48), CHS 520/64/63" \
  "    81h: 1024 MiB, CHS 520/64/63" \
  "bios-test: PASS"

# 4. 4 GiB of RAM: QEMU puts 1 GiB above 4 GiB
copy_test_disk
expect ram-4g 60 33 "$bios" "-m 4G -drive $disk" \
  "    e820 0000000100000000 +0000000040000000 type 1" \
  "bios-test: PASS"

# 5. a BIOS built to ignore fw_cfg: memory from the CMOS, 1 CPU
nasm -f bin -DHVLAB_BIOS_NO_FWCFG -I "$here/../../include/" -I "$here/../" \
  -o "$work/bios-nofwcfg.bin" "$here/../bios.asm"
copy_test_disk
expect cmos-memory 60 33 "$work/bios-nofwcfg.bin" "-m 256 -smp 2 -drive $disk" \
  "memory map (CMOS):" \
  "    e820 0000000000100000 +000000000FF00000 type 1" \
  "    MP: 1 CPU(s), 1 IOAPIC" \
  "bios-test: PASS"

# 6. no disk, only a CD-ROM (skipped): the message, then HLT with interrupts off
truncate -s 1M "$work/cd.iso"
expect no-disk 8 124 "$bios" "-m 128 -cdrom $work/cd.iso" \
  "ATAPI device (CD-ROM) found: not supported, skipped" \
  "hvlab BIOS: 128 MiB RAM (636 KiB base), 1 CPU, 0 disks, 6 PCI functions" \
  "hvlab BIOS: no bootable disk found.  Attach a disk image whose first" \
  "System halted."

# 7. a disk without the boot signature
make_data_disk "$work/small.img" 1G
expect not-bootable 8 124 "$bios" "-m 128 -drive file=$work/small.img,format=raw,if=ide" \
  "Booting from disk 80h... no boot signature (55AAh) in sector 0" \
  "System halted."

echo "$passed passed, $failed failed"
(( failed == 0 ))
