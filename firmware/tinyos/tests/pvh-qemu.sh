#!/usr/bin/env bash
# pvh-qemu.sh - tinyos's PVH entry against another loader: QEMU boots tinyos-kernel.elf with
# `-kernel` (its PVH option ROM finds the "Xen" PHYS32_ENTRY note), no boot sector, no stage2.
#
#   firmware/tinyos/tests/pvh-qemu.sh [FIRMWARE_DIR]   (default: build/firmware; needs
#                                                       tinyos-kernel.elf and tinyos.img there)
#
# QEMU puts its hvm_start_info at 0x21e0 (where stage2 puts its page tables), so this checks that
# the entry leaves the start-info alone, reads QEMU's memory map and command line, and that the
# kernel then picks the emulated paths by what it finds (QEMU has a PIC, PIT and RTC and is not
# hvlab), with the data disk on virtio-blk. Prints "pvh-qemu: skipped: ..." and exits 0 when
# QEMU is missing. Ends with "N passed, N failed"; exit status 0 = all passed.
set -u

dir=${1:-build/firmware}
qemu=${QEMU:-qemu-system-x86_64}
command_timeout=${COMMAND_TIMEOUT:-60}
work=$(mktemp -d)
source "$(dirname "$0")/console.sh"
trap 'vm_stop_all; rm -rf "$work"' EXIT

if ! command -v "$qemu" >/dev/null; then
  echo "pvh-qemu: skipped: $qemu not found"
  exit 0
fi
for f in tinyos-kernel.elf tinyos.img; do
  [[ -f $dir/$f ]] || { echo "pvh-qemu: no $dir/$f (build target hvlab_tinyos)" >&2; exit 2; }
done

vm_start a -kernel "$dir/tinyos-kernel.elf" -append "from qemu" \
  -drive "file=$dir/tinyos.img,format=raw,if=none,id=vd,snapshot=on" \
  -device virtio-blk-pci,disable-legacy=on,drive=vd
vm_type a "pv"
vm_type a "bench disk"
vm_type a "poweroff"
vm_wait a
status=$vm_status
a=$(vm_output a)

check "entered through PVH with QEMU's start-info" "$a" '^booted through PVH: hvm_start_info at [0-9a-f]+, 0 module\(s\), command line "from qemu"$'
check "QEMU's memory map" "$a" '^E820 memory map \([0-9]+ entries\):$'
check "the emulated paths (no hvlab here)" "$a" '^paths: boot pvh, console uart \(input uart\), timer pit, interrupts pic, idle hlt, privileged native$'
check "the shell" "$a" '^tinyos shell, process 1'
check "pv" "$a" '^hypervisor: TCGTCGTCGTCG, no hypercall interfaces offered'
check "bench disk on virtio-blk" "$a" '^disk virtio-blk: read 1024 sectors in [0-9]+ ticks'
check "QEMU exit status 1 (poweroff)" "$status" '^1$'

if (( failed )); then
  printf -- '---- output ----\n%s\n' "$a"
fi
echo "$passed passed, $failed failed"
(( failed == 0 ))
