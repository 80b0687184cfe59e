#!/usr/bin/env bash
# ping-two-vms.sh - two tinyos machines on one virtual Ethernet ping each other.
#
#   firmware/tinyos/tests/ping-two-vms.sh [IMAGE]  (default: build-tinyos/firmware/tinyos.img)
#
# QEMU's socket netdev joins the two e1000s: A listens on 127.0.0.1:PORT, B connects.
# A has MAC ...:02 (10.0.0.2), B has MAC ...:03 (10.0.0.3). B pings A, A pings B.
set -u

image=${1:-build-tinyos/firmware/tinyos.img}
qemu=${QEMU:-qemu-system-x86_64}
command_timeout=${COMMAND_TIMEOUT:-90}
port=${PORT:-$((20000 + RANDOM % 20000))}
work=$(mktemp -d)
source "$(dirname "$0")/console.sh"
trap 'vm_stop_all; rm -rf "$work"' EXIT

[[ -f $image ]] || { echo "ping-two-vms.sh: no image $image" >&2; exit 2; }
disk="format=raw,if=ide,snapshot=on"
vm_start a -drive "file=$image,$disk" -netdev socket,id=n0,listen=127.0.0.1:$port \
  -device e1000,netdev=n0,mac=52:54:00:12:34:02
sleep 1 # A must listen before B connects
vm_start b -drive "file=$image,$disk" -netdev socket,id=n0,connect=127.0.0.1:$port \
  -device e1000,netdev=n0,mac=52:54:00:12:34:03

vm_type b "ping 10.0.0.2 3"
vm_type b "ip"
vm_type a "ping 10.0.0.3 2"  # waits for A's first prompt; B's pings answered meanwhile
vm_type a "ip"
vm_type b "bench net 10.0.0.2"
vm_type b "bench udp 10.0.0.2 2000"
vm_type a "poweroff"
vm_type b "poweroff"
vm_wait a
vm_wait b
a=$(vm_output a)
b=$(vm_output b)

check "B: replies from A" "$b" '^reply from 10\.0\.0\.2: seq=3 ttl=64 time=[0-9.]+ ms'
check "B: all answered" "$b" '^3 sent, 3 received$'
check "B: learned A's MAC" "$b" '^arp: 10\.0\.0\.2 is at 52:54:00:12:34:02$'
check "A: replies from B" "$a" '^reply from 10\.0\.0\.3: seq=2 ttl=64 time=[0-9.]+ ms'
check "A: learned B's MAC" "$a" '^arp: 10\.0\.0\.3 is at 52:54:00:12:34:03$'
check "B: bench net ARP" "$b" '^net ARP request: 5 round trips'
check "B: bench net ICMP" "$b" '^net ICMP echo: 10 round trips'
check "B: bench udp" "$b" '^net UDP stream: 2000 frames of 1514 bytes in [0-9]+ us'
check "B: one TDT write per frame" "$b" '^net UDP stream: e1000 doorbell \(TDT write\) rung 2000 times'

if (( failed )); then
  printf -- '---- A ----\n%s\n---- B ----\n%s\n' "$a" "$b"
fi
echo "$passed passed, $failed failed"
(( failed == 0 ))
