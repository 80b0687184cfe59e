#!/bin/sh
# tinyos-on-kvm.sh HVLAB IRQCHIP IMAGE PCAP - runs inside the kvm-in-qemu guest (busybox sh):
# two tinyos VMs on KVM; VM 1 pings VM 2, runs every bench (`bench net` against VM 2), then
# powers off. Prints the console, "boot-to-shell: N s" (VM 1's first shell prompt, from
# /proc/uptime) and the size of the pcap. Each command is typed when VM 1's previous prompt
# has appeared.
hvlab=$1 irqchip=$2 image=$3 pcap=$4
log=/tmp/tinyos-console.log
boot=/tmp/boot-to-shell.txt
start=$(cut -d' ' -f1 /proc/uptime)

# prompt_count: how many times VM 1's prompt has been printed so far.
prompt_count() { grep -o 'tinyos> ' "$log" 2>/dev/null | wc -l; }

# wait_prompts N: wait (up to 240 s) until VM 1 printed its Nth prompt.
wait_prompts() {
	waited=0
	while [ "$(prompt_count)" -lt "$1" ] && [ "$waited" -lt 240 ]; do
		sleep 1
		waited=$((waited + 1))
	done
}

commands() {
	n=1
	for command in 'ping 10.0.0.3 3' 'bench cpu' 'bench syscall' 'bench pagefault' 'bench disk' \
		'bench net 10.0.0.3' 'bench timer' poweroff; do
		wait_prompts "$n"
		if [ "$n" = 1 ]; then  # VM 1's first prompt (polled every second)
			echo "boot-to-shell: $(awk -v s="$start" '{ printf "%.0f", $1 - s }' /proc/uptime) s (+-1 s)" >"$boot"
			sleep 5  # VM 2 boots beside VM 1: give it a head start before the ping
		fi
		echo "$command"
		n=$((n + 1))
	done
	sleep 10
}

: >"$log"
# The console goes to stdout and, as it comes (a prompt has no newline yet), to the log.
commands | "$hvlab" run --engine kvm --irqchip "$irqchip" --vms 2 --disk "$image" --pcap "$pcap" --timeout 600 2>&1 |
	tee "$log"
cat "$boot"
echo "pcap: $(wc -c <"$pcap") bytes"
