#!/bin/sh
# tinyos-on-kvm.sh HVLAB IRQCHIP IMAGE PCAP - runs inside the kvm-in-qemu guest (busybox sh):
# two tinyos VMs on KVM; VM 1 pings VM 2, runs every bench (`bench net` against VM 2), then
# powers off. Prints the console, "boot-to-shell: N s" (VM 1's first shell prompt, from
# /proc/uptime) and the size of the pcap. Each command is typed when VM 1's previous prompt
# has appeared.
hvlab=$1 irqchip=$2 image=$3 pcap=$4
log=/tmp/tinyos-console.log
start=$(cut -d' ' -f1 /proc/uptime)

# prompt_count: how many times VM 1's prompt has been printed so far.
prompt_count() { grep -o 'tinyos> ' "$log" 2>/dev/null | wc -l; }

# type_after N COMMAND: wait (up to 240 s) until VM 1 printed its Nth prompt, then type COMMAND.
type_after() {
	waited=0
	while [ "$(prompt_count)" -lt "$1" ] && [ "$waited" -lt 240 ]; do
		sleep 1
		waited=$((waited + 1))
	done
	echo "$2"
}

commands() {
	n=1
	for command in 'ping 10.0.0.3 3' 'bench cpu' 'bench syscall' 'bench pagefault' 'bench disk' \
		'bench net 10.0.0.3' 'bench timer' poweroff; do
		[ "$n" = 1 ] && sleep 5  # VM 2 boots beside VM 1: give it a head start before the ping
		type_after "$n" "$command"
		n=$((n + 1))
	done
	sleep 10
}

: >"$log"
# The raw console goes to the log as it comes (a prompt has no newline yet), the lines to stdout.
commands | "$hvlab" run --engine kvm --irqchip "$irqchip" --vms 2 --disk "$image" --pcap "$pcap" --timeout 600 2>&1 |
	tee "$log" | while IFS= read -r line; do
		case "$line" in
		"tinyos shell, process 1."*)
			echo "boot-to-shell: $(awk -v s="$start" '{ printf "%.2f", $1 - s }' /proc/uptime) s"
			;;
		esac
		printf '%s\n' "$line"
	done
echo "pcap: $(wc -c <"$pcap") bytes"
