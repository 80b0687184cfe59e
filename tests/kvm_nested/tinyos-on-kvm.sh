#!/bin/sh
# tinyos-on-kvm.sh HVLAB IRQCHIP IMAGE PCAP - runs inside the kvm-in-qemu guest (busybox sh):
# two tinyos VMs on KVM; VM 1 pings VM 2 and runs `bench disk`, then powers off. Prints the
# console, "boot-to-shell: N s" (first shell prompt of VM 1, from /proc/uptime) and the pcap size.
hvlab=$1 irqchip=$2 image=$3 pcap=$4
start=$(cut -d' ' -f1 /proc/uptime)
commands() {
	sleep 60
	echo 'ping 10.0.0.3 3'
	sleep 20
	echo 'bench disk'
	sleep 60
	echo poweroff
	sleep 10
}
commands | "$hvlab" run --engine kvm --irqchip "$irqchip" --vms 2 --disk "$image" --pcap "$pcap" --timeout 200 2>&1 |
	while IFS= read -r line; do
		case "$line" in
		"tinyos shell, process 1."*)
			echo "boot-to-shell: $(awk -v s="$start" '{ printf "%.2f", $1 - s }' /proc/uptime) s"
			;;
		esac
		printf '%s\n' "$line"
	done
echo "pcap: $(wc -c <"$pcap") bytes"
