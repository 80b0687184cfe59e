#!/usr/bin/env bash
# virtio-qemu.sh - tinyos's virtio drivers against QEMU's own virtio 1.x devices (modern only:
# disable-legacy=on), booted by the hvlab BIOS.
#
#   firmware/tinyos/tests/virtio-qemu.sh [FIRMWARE_DIR]   (default: build/firmware; needs
#                                                          bios.bin and tinyos.img there)
#
# Machine A: tinyos.img on IDE (the BIOS boots from it), a data disk on virtio-blk, virtio-net
# listening on a QEMU socket netdev, a virtio console on a pair of FIFOs. Machine B: the same
# boot disk, virtio-net connected to A's socket. Checked: the drivers' boot lines, reading a
# marker the script put on the virtio disk, writing and reading back, `bench disk`, A and B
# pinging each other, `bench net` and `bench udp`, and that the virtio console carries output and input
# (B's last commands and A's poweroff are typed into the virtio console, not COM1).
# Prints "virtio-qemu: skipped: ..." and exits 0 when QEMU is missing.
# Ends with "N passed, N failed"; exit status 0 = all passed.
set -u

dir=${1:-build/firmware}
qemu=${QEMU:-qemu-system-x86_64}
command_timeout=${COMMAND_TIMEOUT:-60}
port=${PORT:-$((20000 + RANDOM % 20000))}
work=$(mktemp -d)
source "$(dirname "$0")/console.sh"
trap 'vm_stop_all; kill $vc_reader 2>/dev/null; rm -rf "$work"' EXIT
vc_reader=

if ! command -v "$qemu" >/dev/null; then
  echo "virtio-qemu: skipped: $qemu not found"
  exit 0
fi
for f in bios.bin tinyos.img; do
  [[ -f $dir/$f ]] || { echo "virtio-qemu: no $dir/$f (build targets hvlab_bios, hvlab_tinyos)" >&2; exit 2; }
done

# The virtio data disk: 8 MiB, a marker in data sector 3 (LBA 2048 + 3, the data-area rule).
data=$work/data.img
truncate -s 8M "$data"
printf 'marker on the virtio disk' | dd of="$data" bs=512 seek=2051 conv=notrunc status=none

# The virtio console of A: QEMU reads vc.in and writes vc.out.
mkfifo "$work/vc.in" "$work/vc.out"
cat "$work/vc.out" >"$work/vc.log" &
vc_reader=$!
exec {vc_fd}<>"$work/vc.in"

boot=(-bios "$dir/bios.bin" -drive "file=$dir/tinyos.img,format=raw,if=ide,snapshot=on")
vm_start a "${boot[@]}" \
  -drive "file=$data,format=raw,if=none,id=vd" -device virtio-blk-pci,disable-legacy=on,drive=vd \
  -netdev socket,id=n0,listen=127.0.0.1:$port -device virtio-net-pci,disable-legacy=on,netdev=n0,mac=52:54:00:12:34:02 \
  -chardev pipe,id=vc,path="$work/vc" -device virtio-serial-pci,disable-legacy=on -device virtconsole,chardev=vc
sleep 1 # A must listen before B connects
vm_start b "${boot[@]}" \
  -netdev socket,id=n0,connect=127.0.0.1:$port -device virtio-net-pci,disable-legacy=on,netdev=n0,mac=52:54:00:12:34:03

# vc_type COMMAND: like vm_type a, but typed into A's virtio console.
vc_type() {
  local want=$((vm_typed[a] + 1)) waited=0
  while (( $(vm_prompts a) < want && waited < command_timeout * 10 )); do
    sleep 0.1
    waited=$((waited + 1))
  done
  printf '%s\n' "$1" >&"$vc_fd"
  vm_typed[a]=$want
}

vm_type a "disk info"
vm_type a "disk read 3"
vm_type b "ping 10.0.0.2 3"
vm_type a "disk write 5 written through virtio"
vm_type a "disk read 5"
vm_type a "bench disk"
vm_type a "ping 10.0.0.3 2"
vm_type b "bench net 10.0.0.2"
vm_type b "bench udp 10.0.0.2 2000"
vm_type a "ip"
vm_type b "poweroff"
vc_type "ticks"
vc_type "poweroff"
vm_wait a
vm_wait b
a_status=$vm_status
a=$(vm_output a)
b=$(vm_output b)
sleep 0.2
vc=$(tr -d '\r' <"$work/vc.log")

check "A: virtio-blk found" "$a" '^virtio-blk: pci 00:0[0-9a-f]\.0 1af4:1042, 1 queues, features 1[0-9a-f]{8} .*, IRQ (10|11)$'
check "A: virtio-blk capacity" "$a" '^virtio-blk: "virtio-blk", 16384 sectors \(8 MiB\)'
check "A: disk layer picked virtio-blk" "$a" '^disk: using virtio-blk'
check "A: virtio-net found" "$a" '^virtio-net: MAC 52:54:00:12:34:02$'
check "A: network on virtio-net" "$a" '^net: using virtio-net$'
check "A: virtio console found" "$a" '^virtio-console: console output goes here'
check "A: disk info" "$a" '^disk: "virtio-blk", data area = LBA 2048\.\.16383 \(14336 sectors\), virtio-blk$'
check "A: read the marker" "$a" '^000: 6d 61 72 6b 65 72 20 6f 6e 20 74 68 65 20 76 69  \|marker on the vi\|$'
check "A: wrote a sector" "$a" '^wrote 22 bytes to data sector 5 \(LBA 2053\)$'
check "A: read it back" "$a" '^010: 76 69 72 74 69 6f 00 00 00 00 00 00 00 00 00 00  \|virtio\.{10}\|$'
check "A: bench disk" "$a" '^disk virtio-blk: read 1024 sectors in [0-9]+ ticks \([0-9]+ us\) = [1-9][0-9]* sectors/s'
check "A: replies from B" "$a" '^reply from 10\.0\.0\.3: seq=2 ttl=64 time=[0-9.]+ ms'
check "A: ip" "$a" '^virtio-net: MAC 52:54:00:12:34:02, IRQ (10|11)$'
check "B: network on virtio-net" "$b" '^net: using virtio-net$'
check "B: IDE disk (no virtio-blk)" "$b" '^disk: using IDE'
check "B: all answered" "$b" '^3 sent, 3 received$'
check "B: bench net ARP" "$b" '^net ARP request: 5 round trips'
check "B: bench net ICMP" "$b" '^net ICMP echo: 10 round trips'
check "B: bench udp" "$b" '^net UDP stream: 2000 frames of 1514 bytes in [0-9]+ us'
check "B: bench udp notified per burst" "$b" '^net UDP stream: virtio-net doorbell \(queue notify\) rung [0-9]+ times'
check "B: EVENT_IDX negotiated" "$b" '^virtio-net: pci .* features 12[0-9a-f]{7} '
check "virtio console: boot output" "$vc" '^net: using virtio-net$'
check "virtio console: shell output" "$vc" '^disk virtio-blk: read 1024 sectors'
check "virtio console: typed ticks ran" "$a" '^[0-9]+ ticks at 1000 Hz'
check "virtio console: echo of typed input" "$vc" '^tinyos> ticks$'
check "virtio console: typed poweroff ran" "$vc" '^poweroff: writing 0 to the debug-exit port 0xF4, then halting$'
check "A: QEMU exit status 1 (poweroff)" "$a_status" '^1$'
# The file on the host really changed (the virtio disk was not opened with snapshot=on).
check "data disk written on the host" "$(dd if="$data" bs=512 skip=2053 count=1 status=none | tr -d '\0')" \
  '^written through virtio$'

if (( failed )); then
  printf -- '---- A (COM1) ----\n%s\n---- A (virtio console) ----\n%s\n---- B ----\n%s\n' "$a" "$vc" "$b"
fi
echo "$passed passed, $failed failed"
(( failed == 0 ))
