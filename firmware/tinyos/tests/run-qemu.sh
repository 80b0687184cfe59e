#!/usr/bin/env bash
# run-qemu.sh - smoke test: boot tinyos.img under QEMU (TCG), type commands into the serial
# console, check what comes back.
#
#   firmware/tinyos/tests/run-qemu.sh [IMAGE]     (default: build-tinyos/firmware/tinyos.img)
#
# Each command is typed only after the shell printed its prompt, so a slow (loaded) host only
# makes the test slower. The disk image is opened with snapshot=on: it is never modified.
# The network is QEMU's user-mode stack with restrict=on (10.0.0.1 answers ARP and ping;
# nothing leaves the emulator). Ends with a line "N passed, N failed"; exit status 0 = all passed.
set -u

image=${1:-build-tinyos/firmware/tinyos.img}
qemu=${QEMU:-qemu-system-x86_64}
command_timeout=${COMMAND_TIMEOUT:-90} # seconds per command, generous for loaded hosts
work=$(mktemp -d)
source "$(dirname "$0")/console.sh"
trap 'vm_stop_all; rm -rf "$work"' EXIT

command -v "$qemu" >/dev/null || { echo "run-qemu.sh: $qemu not found" >&2; exit 2; }
[[ -f $image ]] || { echo "run-qemu.sh: no image $image (build target hvlab_tinyos)" >&2; exit 2; }

vm_start vm -drive "file=$image,format=raw,if=ide,snapshot=on" \
  -netdev user,id=n0,net=10.0.0.0/24,host=10.0.0.1,restrict=on \
  -device e1000,netdev=n0,mac=52:54:00:12:34:02
for cmd in "ps" "ticks" "disk write 3 hello" "disk read 3" "bench cpu" "bench syscall" \
           "ip" "ping 10.0.0.1 2" "run crash 0" "poweroff"; do
  vm_type vm "$cmd" || break
done
vm_wait vm
text=$(vm_output vm)

check "boot banner" "$text" '^tinyos 0\.1 -- a small x86-64 teaching kernel$'
check "E820 map" "$text" '^E820 memory map \([0-9]+ entries\):$'
check "IDE disk found" "$text" '^ide: primary master "QEMU HARDDISK", 16384 sectors'
check "bus-master DMA" "$text" '^ide: bus-master DMA via 8086:7010'
check "e1000 found" "$text" '^e1000: .*MAC 52:54:00:12:34:02, IRQ [0-9]+$'
check "IP address at boot" "$text" '^net: IP address 10\.0\.0\.2/24$'
check "ps: header" "$text" '^  PID  PPID  STATE +TICKS +FAULTS +SYSCALLS +NAME$'
check "ps: shell" "$text" '^ +1 +0 +running +[0-9]+ +[0-9]+ +[0-9]+ +shell$'
check "ps: counter" "$text" '^ +2 +0 +(ready|sleeping|running) +[0-9]+ +[0-9]+ +[0-9]+ +counter$'
check "ps: spinner" "$text" '^ +3 +0 +(ready|sleeping|running) +[0-9]+ +[0-9]+ +[0-9]+ +spinner$'
check "ticks" "$text" '^[0-9]+ ticks at 1000 Hz from the PIT \(TSC [0-9]+\.[0-9]{3} MHz\)$'
check "disk write" "$text" '^wrote 5 bytes to data sector 3 \(LBA 2051\)$'
check "disk read: hex" "$text" '^000: 68 65 6c 6c 6f 00 00 00 00 00 00 00 00 00 00 00  \|hello\.{11}\|$'
check "disk read: rest zero" "$text" '^\(496 more zero bytes\)$'
check "bench cpu" "$text" '^cpu: [0-9]+ loop iterations in [0-9]+ ticks = [1-9][0-9]* per tick \(wall clock\)$'
check "bench syscall" "$text" '^syscall: [0-9]+ getpid\(\) calls in [0-9]+ ticks = [1-9][0-9]* per second'
check "ip" "$text" '^inet 10\.0\.0\.2/24, [0-9]+ packets received, [0-9]+ sent$'
check "ping reply" "$text" '^reply from 10\.0\.0\.1: seq=2 ttl=[0-9]+ time=[0-9]+\.[0-9]{3} ms \([0-9]+ ticks\)$'
check "crash killed" "$text" '^\[kernel\] process 4 \(crash\): exception 14 #PF page fault, error code 7, .* -> process killed$'
check "crash exit code" "$text" '^\[process 4 \(crash\) exited with code -114\]$'
check "poweroff" "$text" '^poweroff: writing 0 to the debug-exit port 0xF4, then halting$'
# isa-debug-exit makes QEMU exit with (value << 1) | 1: poweroff writes 0 -> status 1.
check "QEMU exit status 1" "$vm_status" '^1$'

if (( failed )); then
  echo "---- serial output ----"
  echo "$text"
fi
echo "$passed passed, $failed failed"
(( failed == 0 ))
