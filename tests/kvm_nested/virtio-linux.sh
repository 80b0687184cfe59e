#!/usr/bin/env bash
# virtio-linux.sh HVLAB - the real check of hvlab's virtio devices: Linux's own drivers
# (virtio_pci, virtio_blk, virtio_net, virtio_console from the Debian kernel kvm-in-qemu caches)
# must accept them. hvlab runs on KVM inside the throw-away QEMU of scripts/kvm-in-qemu (hvlab's
# interpreter cannot run Linux), with two VMs on its switch, each with a virtio disk, a virtio-net
# NIC and a virtio-console. The initramfs's /init loads the modules and checks:
#   - /sys/block/vda exists and sector 100 of the disk holds a known pattern; a write reads back;
#   - eth0 has the configured MAC (52:54:00:12:34:02 / :03), carrier up, and VM 1 pings VM 2;
#   - /dev/hvc0 exists and a line written to it reaches hvlab's stdout.
# Linux finds PCI through ACPI: the hvlab BIOS's DSDT describes the root bridge PCI0 (PNP0A03) with
# a _PRT through four interrupt links (firmware/bios/dsdt.asm), so no pci=noacpi is needed; the
# checks include Linux's lines about PCI0 and the links. VIRTIO_LINUX_APPEND adds kernel parameters
# (e.g. VIRTIO_LINUX_APPEND=pci=noacpi for the old path: Linux probes bus 0 itself and takes the
# BIOS's Interrupt Line registers).
# Prints what Linux said about the devices, then PASS/FAIL lines; exit status 0 if all passed.
# VIRTIO_LINUX_IRQCHIP=kernel runs the VMs with KVM's in-kernel irqchip (default: emulated).
# Slow: about two minutes (Linux boots on nested KVM under TCG).
set -euo pipefail

HVLAB=$(realpath "${1:?usage: virtio-linux.sh path/to/hvlab}")
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KVM_IN_QEMU="$ROOT/scripts/kvm-in-qemu"
CACHE="${HVLAB_KVM_QEMU_CACHE:-$HOME/.cache/hvlab-kvm-in-qemu}/current"
TIMEOUT="${KVM_NESTED_TIMEOUT:-600}"

IRQCHIP="${VIRTIO_LINUX_IRQCHIP:-emulated}"
APPEND="console=ttyS0 nokaslr quiet ${VIRTIO_LINUX_APPEND:-}"

if ! check_out=$("$KVM_IN_QEMU" --check 2>&1); then
	echo "virtio-linux: skipped: $(printf '%s\n' "$check_out" | sed -n 's/^kvm-in-qemu: check: FAIL: //p' | tail -n 1)"
	exit 0
fi
kernel=$(ls "$CACHE"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
busybox=$(command -v busybox || true)
if [ -z "$kernel" ] || [ -z "$busybox" ] || [[ "$(ldd "$busybox" 2>&1 || true)" != *"not a dynamic executable"* ]]; then
	echo "virtio-linux: skipped: no cached Debian kernel or no static busybox"
	exit 0
fi
release=$(basename "$kernel" | sed 's/^vmlinuz-//')
modules="$CACHE/lib/modules/$release/kernel"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/virtio-linux.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The disk: 4 MiB of zeros with a known line in sector 100.
truncate -s 4M "$WORK/vda.img"
printf 'hvlab-virtio-pattern-0123456789' | dd of="$WORK/vda.img" bs=512 seek=100 conv=notrunc 2>/dev/null

mkdir -p "$WORK/initrd/bin" "$WORK/initrd/proc" "$WORK/initrd/sys" "$WORK/initrd/dev" "$WORK/initrd/lib/modules"
cp "$busybox" "$WORK/initrd/bin/busybox"
for m in drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_modern_dev.ko \
	drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko \
	net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko drivers/char/virtio_console.ko; do
	cp "$modules/$m" "$WORK/initrd/lib/modules/"
done
cat >"$WORK/initrd/init" <<'INIT'
#!/bin/busybox sh
# Everything is collected in /report and printed at once (VM 2 later than VM 1), so that the two
# VMs' lines do not interleave on hvlab's stdout.
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
r() { $B echo "vl: $*" >> /report; }
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net virtio_console; do
	$B insmod /lib/modules/$m.ko 2>>/report || r "insmod $m failed"
done
$B sleep 2
mac=$($B cat /sys/class/net/eth0/address 2>/dev/null)
r "vda size $($B cat /sys/block/vda/size 2>/dev/null) ro $($B cat /sys/block/vda/ro 2>/dev/null)"
if [ -b /dev/vda ]; then
	r "sector100 $($B dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | $B head -c 31)"
	$B echo "written-by-linux" | $B dd of=/dev/vda bs=512 seek=200 conv=sync,fsync 2>/dev/null
	$B echo 3 > /proc/sys/vm/drop_caches
	r "sector200 $($B dd if=/dev/vda bs=512 skip=200 count=1 2>/dev/null | $B head -c 16)"
fi
r "eth0 $mac"
me=2
[ "${mac##*:}" = 03 ] && me=3
peer=$((5 - me))
$B ip link set eth0 up
$B ip addr add 10.0.0.$me/24 dev eth0
$B sleep 3
r "carrier $($B cat /sys/class/net/eth0/carrier 2>/dev/null)"
if $B ping -c 3 -W 5 10.0.0.$peer >/dev/null 2>&1; then r "ping 10.0.0.$peer ok"; else r "ping 10.0.0.$peer failed"; fi
r "eth0 rx $($B cat /sys/class/net/eth0/statistics/rx_packets) tx $($B cat /sys/class/net/eth0/statistics/tx_packets)"
$B grep -i virtio /proc/interrupts | $B tr -s ' ' | $B sed 's/^/vl: irq /' >> /report
$B dmesg | $B grep -i -E 'virtio|vda|hvc|eth0|PCI INT|irq [0-9]+:|1af4|PCI0|Interrupt link' | $B sed 's/^/vl: dmesg /' >> /report
[ "$me" = 3 ] && $B sleep 20
$B cat /report
[ -c /dev/hvc0 ] && $B echo "vl: hvc0 hello from $mac" > /dev/hvc0
[ "$me" = 2 ] && $B sleep 40
$B poweroff -f
INIT
chmod +x "$WORK/initrd/init"
(cd "$WORK/initrd" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$WORK/initrd.gz"

RC=0
started=$SECONDS
"$KVM_IN_QEMU" -t "$TIMEOUT" -m 1G -f "$(readlink -f "$kernel"):/tmp/vmlinuz" -f "$WORK/initrd.gz" \
	-f "$WORK/vda.img" -- "$HVLAB" run --engine kvm --irqchip "$IRQCHIP" --mem 256M --timeout $((TIMEOUT - 100)) --vms 2 \
	--kernel /tmp/vmlinuz --initrd "$WORK/initrd.gz" --append "$APPEND" \
	--disk "$WORK/vda.img,virtio" --nic=virtio --virtio-console >"$WORK/out" 2>"$WORK/err" || RC=$?
echo "virtio-linux: nested run (--irqchip $IRQCHIP) took $((SECONDS - started)) s, status $RC"
echo "---- what Linux printed (VM 1 unprefixed, VM 2 as [vm2]):"
grep -E '(^|\] )vl: ' "$WORK/out" || true
echo "---- hvlab stderr (last lines):"
tail -n 12 "$WORK/err"
if [ -n "${VIRTIO_LINUX_KEEP:-}" ]; then  # keep the whole output for a closer look
	mkdir -p "$VIRTIO_LINUX_KEEP" && cp "$WORK/out" "$WORK/err" "$VIRTIO_LINUX_KEEP/"
fi

FAILED=0
check() {  # check DESCRIPTION PATTERN
	if grep -q -E "$2" "$WORK/out"; then echo "PASS: $1"; else echo "FAIL: $1"; FAILED=1; fi
}
check "vm1: /sys/block/vda (8192 sectors, writable)" '^vl: vda size 8192 ro 0'
check "vm1: sector 100 pattern read through virtio-blk" '^vl: sector100 hvlab-virtio-pattern-0123456789'
check "vm1: a write to sector 200 reads back" '^vl: sector200 written-by-linux'
check "vm1: eth0 with MAC 52:54:00:12:34:02" '^vl: eth0 52:54:00:12:34:02'
check "vm2: eth0 with MAC 52:54:00:12:34:03" '\[vm2\] vl: eth0 52:54:00:12:34:03'
check "vm1: carrier up" '^vl: carrier 1'
check "vm1 pings vm2 over virtio-net" '^vl: ping 10.0.0.3 ok'
check "vm1: hvc0 output reaches hvlab's stdout" '^vl: hvc0 hello from 52:54:00:12:34:02'
if [[ "$APPEND" != *pci=noacpi* ]]; then
	check "vm1: ACPI describes the PCI root bridge PCI0" '^vl: dmesg .*ACPI: PCI Root Bridge \[PCI0\]'
	check "vm1: the virtio INTx go through the DSDT's interrupt links" '^vl: dmesg .*Interrupt link LNK[A-D] configured for IRQ 1[01]'
fi
[ "$FAILED" = 0 ]
