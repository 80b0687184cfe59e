#!/usr/bin/env bash
# tests/kvm_nested/run.sh - run hvlab's KVM engine on a real /dev/kvm even on
# machines without one, by way of scripts/kvm-in-qemu (a QEMU TCG guest whose
# kernel gets /dev/kvm from QEMU's emulated AMD SVM).
#
# Usage: tests/kvm_nested/run.sh HVLAB_BINARY FIRMWARE_DIR [TEST_BINARY...]
#
# Checks (each prints a PASS or FAIL line):
#   1. `hvlab run --engine kvm -q` (the bundled guest) in the QEMU guest prints
#      byte-for-byte the same stdout, and exits with the same status, as
#      `hvlab run --engine interp -q` on this host
#   2. FIRMWARE_DIR/triple-fault.bin on KVM exits 6 with "triple fault" on stderr
#   3. FIRMWARE_DIR/debug-exit.bin on KVM exits 85; the BIOS test disk (bios-test.img) passes
#      every group but A20 on KVM with --irqchip emulated and with --irqchip kernel
#   3c. FIRMWARE_DIR/ioapic-timer.bin (PIT IRQ 0 through IOAPIC pin 2) exits 33 on KVM with both
#      irqchips
#   3d. `--kernel FIRMWARE_DIR/multiboot-hello.elf` on KVM (BIOS POST, then the kernel) exits 33
#   3e. the Debian kernel kvm-in-qemu uses boots on KVM (both irqchips) to a busybox initramfs and
#      powers off through ACPI (status 0)
#   3f. two tinyos VMs on KVM (in-kernel irqchip) boot to the shell, ping each other (pcap) and run
#      every bench (tests/kvm_nested/tinyos-on-kvm.sh); boot time, figures and exits are printed
#   3g. FIRMWARE_DIR/hypercalls.bin with --pv all exits 33 on KVM, with 12 hypercall exits
#   3h. FIRMWARE_DIR/pv-irq-block.bin (event_bind_irq, block) with --pv all exits 33 on KVM, no hlt exit
#   3i. tinyos through PVH on KVM (--preset pvh --kernel tinyos-kernel.elf): no BIOS, no legacy
#       devices; it reaches its shell with every path P and idles with block (no hlt exit)
#   4. `hvlab run --engine kvm --trace-exits` shows the same set of exit reasons
#      (the word before rip= in "exit N T ms REASON rip=...") as the interpreter
#   5. each TEST_BINARY (a Catch2 suite) runs its "[kvm]" test cases in the QEMU
#      guest (with FIRMWARE_DIR copied in at the same path) and passes
# then a final line "N passed, M failed"; the status is non-zero on any FAIL.
#
# It skips (prints "kvm_nested: skipped: REASON", exit 0) when this machine
# has /dev/kvm (the kvm integration tests run natively there), or when the
# nested path can't work (no QEMU and no way to install it, or no kernel
# downloadable); see `scripts/kvm-in-qemu --check`.
#
# Environment: KVM_NESTED_TIMEOUT (seconds per guest boot, default 300),
# KVM_NESTED_TINYOS_IRQCHIPS (the irqchips 3f uses, default "kernel"), and
# whatever scripts/kvm-in-qemu reads (HVLAB_KVM_QEMU_CACHE, ...).

set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 HVLAB_BINARY FIRMWARE_DIR [TEST_BINARY...]" >&2
	exit 2
fi
HVLAB=$(realpath "$1")
FIRMWARE=$(realpath "$2")
shift 2
TEST_BINARIES=("$@")
KVM_IN_QEMU="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/kvm-in-qemu"
TIMEOUT="${KVM_NESTED_TIMEOUT:-300}"

skip() {
	echo "kvm_nested: skipped: $*"
	exit 0
}

if [ -e /dev/kvm ]; then
	skip "/dev/kvm present here; the kvm integration tests run natively"
fi
for f in "$HVLAB" "$FIRMWARE/triple-fault.bin" "$FIRMWARE/debug-exit.bin"; do
	[ -f "$f" ] || { echo "kvm_nested: error: missing $f" >&2; exit 2; }
done

# Can the nested path work here? --check boots nothing; its last line is
# "kvm-in-qemu: check: FAIL: REASON" when it can't.
if ! check_out=$("$KVM_IN_QEMU" --check 2>&1); then
	skip "$(printf '%s\n' "$check_out" | sed -n 's/^kvm-in-qemu: check: FAIL: //p' | tail -n 1)"
fi
# Provision (install QEMU, download the kernel) up front, so that a download
# that fails counts as "not possible here" rather than as a failed check.
if ! prep_out=$("$KVM_IN_QEMU" --prepare 2>&1); then
	printf '%s\n' "$prep_out" | sed 's/^/  /' >&2
	skip "provisioning failed: $(printf '%s\n' "$prep_out" | sed -n 's/^kvm-in-qemu: error: //p' | tail -n 1)"
fi
# What was installed or downloaded, and which kernel the guest boots.
printf '%s\n' "$prep_out"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvm_nested.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PASSED=0
FAILED=0
TIMINGS=""
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }

# nested NAME [kvm-in-qemu options --] HVLAB-ARGS...: run hvlab in the QEMU
# guest; stdout to $WORK/NAME.out, stderr to $WORK/NAME.err, status to $RC.
nested() {
	local name=$1
	shift
	RC=0
	local started=$SECONDS
	"$KVM_IN_QEMU" -t "$TIMEOUT" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
	TIMINGS+=" $name=$((SECONDS - started))s"
}
# host NAME HVLAB-ARGS...: the same, for hvlab on this host.
host() {
	local name=$1
	shift
	HRC=0
	"$HVLAB" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || HRC=$?
}
# show FILE: indent FILE's last lines under a FAIL line.
show() { tail -n "${2:-15}" "$1" | sed 's/^/    /'; }

# The exit reasons in a --trace-exits log, sorted and deduplicated, on one line.
exit_reasons() {
	sed -n -E 's/^exit +[0-9]+ +[0-9.]+ +ms +([^ ]+) +rip=.*/\1/p' "$1" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# 1. bundled guest: same stdout and status as the interpreter
host interp run --engine interp -q
nested kvm -- "$HVLAB" run --engine kvm -q
if [ "$RC" = "$HRC" ] && cmp -s "$WORK/interp.out" "$WORK/kvm.out"; then
	pass "bundled guest on KVM: stdout identical to the interpreter's ($(wc -c <"$WORK/kvm.out") bytes), status $RC"
else
	fail "bundled guest on KVM: status $RC (interpreter $HRC), stdout differs:"
	diff -u "$WORK/interp.out" "$WORK/kvm.out" | head -n 30 | sed 's/^/    /' || true
	show "$WORK/kvm.err"
fi

# 2. triple fault: status 6, "triple fault" on stderr
nested triple -f "$FIRMWARE/triple-fault.bin" -- "$HVLAB" run --engine kvm -q "$FIRMWARE/triple-fault.bin"
if [ "$RC" = 6 ] && grep -q "triple fault" "$WORK/triple.err"; then
	pass "triple-fault.bin on KVM: status 6, stderr: $(grep -m 1 "triple fault" "$WORK/triple.err")"
else
	fail "triple-fault.bin on KVM: status $RC (want 6), stderr:"
	show "$WORK/triple.err"
fi

# 3. debug-exit: status 85
nested debugexit -f "$FIRMWARE/debug-exit.bin" -- "$HVLAB" run --engine kvm -q "$FIRMWARE/debug-exit.bin"
if [ "$RC" = 85 ]; then
	pass "debug-exit.bin on KVM: status 85"
else
	fail "debug-exit.bin on KVM: status $RC (want 85), stderr:"
	show "$WORK/debugexit.err"
fi

# 3b. the hvlab BIOS test disk on KVM, with hvlab's emulated interrupt controllers (VS) and with
# KVM's in-kernel irqchip (VH): timer ticks, waits, the keyboard IRQ, disks, PCI, MP and ACPI
# tables. Every group passes except A20 (KVM has no A20 masking; see docs/platform.md).
if [ -f "$FIRMWARE/bios-test.img" ]; then
	for chip in emulated kernel; do
		nested "bios_$chip" -f "$FIRMWARE/bios-test.img" -- "$HVLAB" run --engine kvm --irqchip "$chip" \
			--disk "$FIRMWARE/bios-test.img" --snapshot
		fails=$(grep -c '^FAIL' "$WORK/bios_$chip.out" || true)
		if grep -q '^PASS int1a ticks' "$WORK/bios_$chip.out" && grep -q '^PASS int16 keyboard' "$WORK/bios_$chip.out" &&
			[ "$fails" = 1 ] && grep -q '^FAIL int15 A20' "$WORK/bios_$chip.out"; then
			pass "BIOS test disk on KVM, --irqchip $chip: all groups but A20 pass"
		else
			fail "BIOS test disk on KVM, --irqchip $chip: status $RC, $fails groups failed:"
			grep -E '^(PASS|FAIL)|failed:' "$WORK/bios_$chip.out" | sed 's/^/    /' | head -n 30 || true
			show "$WORK/bios_$chip.err"
		fi
	done
fi

# 3c. the PIT's IRQ 0 reaches IOAPIC pin 2 (as the MP/ACPI tables say) with both irqchips; with
# KVM's in-kernel irqchip that needs hvlab's GSI routing (KVM's default sends GSI 0 to pin 0).
for chip in emulated kernel; do
	nested "ioapic_$chip" -f "$FIRMWARE/ioapic-timer.bin" -- "$HVLAB" run --engine kvm --irqchip "$chip" \
		--timeout 60 "$FIRMWARE/ioapic-timer.bin"
	if [ "$RC" = 33 ]; then
		pass "ioapic-timer.bin on KVM, --irqchip $chip: IRQ 0 via IOAPIC pin 2, status 33"
	else
		fail "ioapic-timer.bin on KVM, --irqchip $chip: status $RC (want 33):"
		show "$WORK/ioapic_$chip.out"
		show "$WORK/ioapic_$chip.err"
	fi
done

# 3g. the hypercall ABI on KVM: PV console, clock, one-shot timer and event upcalls
# (firmware/tests/hypercalls.asm) pass, with the same hypercall exits as on the interpreter.
nested hypercalls -f "$FIRMWARE/hypercalls.bin" -- "$HVLAB" run --engine kvm --pv all --timeout 60 \
	"$FIRMWARE/hypercalls.bin"
calls=$(sed -n 's/^ *hypercall  *\([0-9]*\) .*/\1/p' "$WORK/hypercalls.err")
if [ "$RC" = 33 ] && grep -q "hypercalls: all checks passed" "$WORK/hypercalls.out" && [ "$calls" = 12 ]; then
	pass "hypercalls.bin on KVM with --pv all: status 33, $calls hypercall exits (as on the interpreter)"
else
	fail "hypercalls.bin on KVM with --pv all: status $RC (want 33), $calls hypercall exits (want 12):"
	show "$WORK/hypercalls.out"
	show "$WORK/hypercalls.err"
fi

# 3h. event_bind_irq and block on KVM (firmware/tests/pv-irq-block.asm): the VMM idles the vCPU
# between two KVM_RUNs for block, so the run has hypercall exits and not one hlt exit.
if [ -f "$FIRMWARE/pv-irq-block.bin" ]; then
	nested pvirqblock -f "$FIRMWARE/pv-irq-block.bin" -- "$HVLAB" run --engine kvm --pv all --timeout 60 \
		"$FIRMWARE/pv-irq-block.bin"
	if [ "$RC" = 33 ] && grep -q "pv-irq-block: all checks passed" "$WORK/pvirqblock.out" &&
		! grep -q '^ *hlt ' "$WORK/pvirqblock.err"; then
		pass "pv-irq-block.bin on KVM with --pv all: status 33, no hlt exit"
	else
		fail "pv-irq-block.bin on KVM with --pv all: status $RC (want 33, and no hlt exit):"
		show "$WORK/pvirqblock.out"
		show "$WORK/pvirqblock.err"
	fi
fi

# 3i. tinyos through PVH on KVM: the kernel ELF entered directly (no BIOS, no PIC/PIT/RTC), its
# virtio disk's interrupt line as an event, idle with block. Nobody types, so the run ends at
# --timeout (status 12) with the shell waiting.
if [ -f "$FIRMWARE/tinyos-kernel.elf" ] && [ -f "$FIRMWARE/tinyos.img" ]; then
	nested pvh -f "$FIRMWARE/tinyos-kernel.elf" -f "$FIRMWARE/tinyos.img" -- "$HVLAB" run --preset pvh \
		--kernel "$FIRMWARE/tinyos-kernel.elf" --disk "$FIRMWARE/tinyos.img" --snapshot --timeout 90
	if [ "$RC" = 12 ] && grep -q "booted through PVH" "$WORK/pvh.out" &&
		grep -q "paths: boot pvh, console pv (input pv), timer pv, interrupts pv-events, idle block" "$WORK/pvh.out" &&
		grep -q "disk: using virtio-blk" "$WORK/pvh.out" && grep -q "tinyos shell" "$WORK/pvh.out" &&
		! grep -q '^ *hlt ' "$WORK/pvh.err"; then
		pass "tinyos through PVH on KVM: shell reached with every path P, no hlt exit"
	else
		fail "tinyos through PVH on KVM: status $RC (want 12: the shell waits until --timeout):"
		show "$WORK/pvh.out" 30
		show "$WORK/pvh.err"
	fi
fi

# 3d. direct boot on KVM: the hvlab BIOS runs its POST, then the multiboot kernel is loaded and
# entered (the CPU state handed to KVM mid-run, with the BIOS's pending timer interrupt dropped).
if [ -f "$FIRMWARE/multiboot-hello.elf" ]; then
	nested multiboot -f "$FIRMWARE/multiboot-hello.elf" -- "$HVLAB" run --engine kvm --timeout 60 \
		--kernel "$FIRMWARE/multiboot-hello.elf"
	if [ "$RC" = 33 ] && grep -q '^multiboot: pass' "$WORK/multiboot.out" && grep -q '^hvlab BIOS' "$WORK/multiboot.out"; then
		pass "--kernel multiboot-hello.elf on KVM after the BIOS POST: status 33"
	else
		fail "--kernel multiboot-hello.elf on KVM: status $RC (want 33):"
		show "$WORK/multiboot.out"
		show "$WORK/multiboot.err"
	fi
fi

# 3e. a Debian Linux kernel (the one kvm-in-qemu boots its guest with) on hvlab's KVM engine,
# with both irqchips: --kernel after the BIOS POST, a busybox initramfs whose /init prints a line
# and powers off through ACPI (the PIIX4 PM block): status 0.
kernel=$(ls "${HVLAB_KVM_QEMU_CACHE:-$HOME/.cache/hvlab-kvm-in-qemu}"/current/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
busybox=$(command -v busybox || true)
# (ldd fails on a static binary, so its output is taken whole: a pipe would fail under pipefail.)
if [ -n "$kernel" ] && [ -n "$busybox" ] && [[ "$(ldd "$busybox" 2>&1 || true)" == *"not a dynamic executable"* ]]; then
	mkdir -p "$WORK/initrd/bin" "$WORK/initrd/proc"
	cp "$busybox" "$WORK/initrd/bin/busybox"
	cat >"$WORK/initrd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox echo "hvlab-linux: userspace is up, kernel $(/bin/busybox uname -r)"
/bin/busybox grep -m 1 timer /proc/interrupts
/bin/busybox poweroff -f
INIT
	chmod +x "$WORK/initrd/init"
	(cd "$WORK/initrd" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$WORK/initrd.gz"
	for chip in emulated kernel; do
		# (the cache's "current" is a symlink: the file goes in under a plain path)
		nested "linux_$chip" -m 1G -f "$(readlink -f "$kernel"):/tmp/vmlinuz" -f "$WORK/initrd.gz" -- "$HVLAB" run \
			--engine kvm --irqchip "$chip" --mem 256M --timeout 240 --kernel /tmp/vmlinuz --initrd "$WORK/initrd.gz" \
			--append "console=ttyS0 nokaslr"
		if [ "$RC" = 0 ] && grep -q '^hvlab-linux: userspace is up' "$WORK/linux_$chip.out" &&
			grep -q 'ACPI power-off' "$WORK/linux_$chip.err"; then
			pass "Linux $(basename "$kernel") on KVM, --irqchip $chip: userspace, then ACPI power-off;" \
				"$(grep -m 1 'timer' "$WORK/linux_$chip.out" | tr -s ' ')"
		else
			fail "Linux $(basename "$kernel") on KVM, --irqchip $chip: status $RC (want 0):"
			show "$WORK/linux_$chip.out" 25
			show "$WORK/linux_$chip.err"
		fi
	done
else
	echo "note: no cached Debian kernel or no static busybox: the Linux boot check was not run"
fi

# 3f. tinyos on KVM with the in-kernel irqchip: two VMs boot from the disk through the BIOS, VM 1
# pings VM 2 through the switch (captured to a pcap) and runs every bench; the boot-to-shell time,
# the bench figures and the exits of the run are printed for the record. (With --irqchip emulated
# every PIC/PIT access is a userspace exit that the nested KVM handles slowly: tinyos takes 2-4
# minutes to boot there, too long for CI; the BIOS, IOAPIC and Linux checks above cover that path.
# KVM_NESTED_TINYOS_IRQCHIPS="emulated kernel" runs both.)
if [ -f "$FIRMWARE/tinyos.img" ]; then
	script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tinyos-on-kvm.sh"
	# The payload is a shell script: hvlab and its libraries go in with -f. hvlab loads libpcap
	# only for --pcap (dlopen), so ldd does not list it: it and its libraries go in too.
	payload_files=(-f "$HVLAB")
	libpcap=$(ldconfig -p | sed -n 's/.*libpcap.so.0.8 .*=> //p' | head -n 1)
	for lib in $(ldd "$HVLAB" | awk '/=>/ { print $3 }') ${libpcap:+"$libpcap"} \
		$( [ -n "$libpcap" ] && ldd "$libpcap" | awk '/=>/ { print $3 }'); do
		payload_files+=(-f "$(readlink -f "$lib"):$lib")
	done
	for chip in ${KVM_NESTED_TINYOS_IRQCHIPS:-kernel}; do
		nested "tinyos_$chip" -t 700 "${payload_files[@]}" -f "$script" -f "$FIRMWARE/tinyos.img" -- /bin/sh "$script" \
			"$HVLAB" "$chip" "$FIRMWARE/tinyos.img" /tmp/tinyos.pcap
		out="$WORK/tinyos_$chip.out"
		if grep -q '^boot-to-shell:' "$out" && grep -q 'reply from 10.0.0.3: seq=3' "$out" &&
			grep -q '^cpu: .* per tick' "$out" && grep -q '^syscall: .* calls in' "$out" &&
			grep -q '^pagefault: .* page faults in' "$out" && grep -q '^disk DMA: read .* sectors/s' "$out" &&
			grep -q '^net ICMP echo: 10 round trips' "$out" && grep -q '^timer: .* RTC seconds (expected' "$out" &&
			grep -q "guest wrote 0x0 to isa-debug-exit" "$out" && ! grep -q '^pcap: 0 bytes' "$out"; then
			pass "tinyos on KVM, --irqchip $chip: $(grep -m 1 '^boot-to-shell:' "$out"), ping, every bench," \
				"$(grep -m 1 '^pcap:' "$out")"
			grep -E '^(cpu|syscall|pagefault|disk (PIO|DMA)|net ICMP echo|timer): |^  (io|mmio|hlt|irq-window) ' "$out" |
				sed 's/^/    /'
		else
			fail "tinyos on KVM, --irqchip $chip: status $RC:"
			show "$out" 30
		fi
	done
fi

# 4. the same set of exit reasons as the interpreter
host trace_interp run --engine interp --trace-exits
nested trace_kvm -- "$HVLAB" run --engine kvm --trace-exits
want=$(exit_reasons "$WORK/trace_interp.err")
got=$(exit_reasons "$WORK/trace_kvm.err")
if [ "$RC" = "$HRC" ] && [ -n "$got" ] && [ "$got" = "$want" ]; then
	pass "--trace-exits on KVM: exit reasons {$got} as the interpreter's," \
		"$(grep -c '^exit ' "$WORK/trace_kvm.err") exits (interpreter $(grep -c '^exit ' "$WORK/trace_interp.err"))"
else
	fail "--trace-exits on KVM: status $RC (interpreter $HRC), exit reasons {$got}, interpreter's {$want}"
	show "$WORK/trace_kvm.err"
fi

# 5. the Catch2 suites' [kvm] test cases, run natively on the nested /dev/kvm
for t in "${TEST_BINARIES[@]}"; do
	name=$(basename "$t")
	nested "unit_$name" -f "$FIRMWARE" -f "$HVLAB" -- "$(realpath "$t")" "[kvm]" --reporter compact
	if [ "$RC" = 0 ] && ! grep -q "warning: 'skipped" "$WORK/unit_$name.out"; then
		pass "$name [kvm] on KVM: $(grep -E "[Pp]assed" "$WORK/unit_$name.out" | tail -n 1)"
	else
		fail "$name [kvm] on KVM: status $RC"
		show "$WORK/unit_$name.out" 30
		show "$WORK/unit_$name.err"
	fi
done

echo "time per nested run:$TIMINGS (total ${SECONDS}s)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
