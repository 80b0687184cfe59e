# console.sh - helpers for driving tinyos's serial console under QEMU (sourced by the tests).
#
#   vm_start NAME QEMU-ARGS...   start QEMU with the serial console on a FIFO + output file
#   vm_type NAME COMMAND         wait for the next "tinyos> " prompt, then type COMMAND
#   vm_wait NAME                 wait for QEMU to exit; sets vm_status
#   vm_output NAME               the serial output so far, without CRs
#   vm_stop_all                  kill what is still running (call from an EXIT trap)
#
# Needs: $work (a scratch directory), $qemu, $command_timeout (seconds).

declare -A vm_pid vm_typed
vm_status=0

vm_start() {
  local name=$1
  shift
  mkfifo "$work/$name.in"
  "$qemu" -machine pc -accel tcg -m 128 -display none -serial stdio -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=4 "$@" \
    <"$work/$name.in" >"$work/$name.out" 2>&1 &
  vm_pid[$name]=$!
  vm_typed[$name]=0
  eval "exec {fd_$name}>\"$work/$name.in\""
}

vm_prompts() { grep -o 'tinyos> ' "$work/$1.out" 2>/dev/null | wc -l; }

vm_type() {
  local name=$1 want=$((vm_typed[$1] + 1)) waited=0 fd
  while (( $(vm_prompts "$name") < want )); do
    if ! kill -0 "${vm_pid[$name]}" 2>/dev/null || (( waited >= command_timeout * 10 )); then
      echo "console.sh: $name: no prompt before '$2'" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  eval "fd=\$fd_$name"
  printf '%s\n' "$2" >&"$fd"
  vm_typed[$name]=$want
}

vm_wait() {
  local name=$1 i
  for ((i = 0; i < command_timeout * 10; i++)); do
    kill -0 "${vm_pid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  kill "${vm_pid[$name]}" 2>/dev/null
  wait "${vm_pid[$name]}"
  vm_status=$?
  unset "vm_pid[$name]"
}

vm_output() { tr -d '\r' <"$work/$1.out"; }

vm_stop_all() {
  local name
  for name in "${!vm_pid[@]}"; do
    kill "${vm_pid[$name]}" 2>/dev/null
  done
}

# check DESCRIPTION TEXT EXTENDED-REGEX: count a pass if some line of TEXT matches.
passed=0
failed=0
check() {
  if grep -Eq -- "$3" <<<"$2"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1 (expected /$3/)"
  fi
}
