#!/usr/bin/env bash
# The debugger end to end: starts an Xvfb server, runs `hvlab gui` with the scripts in this
# folder on the bundled guest, checks their statuses and the screenshots they save.
# Usage: run-under-xvfb.sh HVLAB SCRIPT_DIR SCREENSHOT_DIR
# Prints "frontend_gui_xvfb: skipped: ..." (ctest reports a skip) when no X server can be started.
set -euo pipefail

hvlab=$1
scripts=$2
shots=$3
name=frontend_gui_xvfb

if ! command -v Xvfb >/dev/null 2>&1; then
    echo "$name: skipped: Xvfb is not installed (scripts/install-deps installs xvfb)"
    exit 0
fi

work=$(mktemp -d)
xvfb_pid=""
cleanup() {
    if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
Xvfb -displayfd 3 -screen 0 1600x900x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 100); do
    [ -s "$work/display" ] && break
    kill -0 "$xvfb_pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -s "$work/display" ]; then
    echo "$name: skipped: Xvfb did not start: $(tail -n 3 "$work/xvfb.log" | tr '\n' ' ')"
    exit 0
fi
export DISPLAY=":$(cat "$work/display")"
export SDL_AUDIODRIVER=dummy

rm -rf "$shots"
mkdir -p "$shots"
failures=0
fail() { echo "$name: FAILED: $*"; failures=$((failures + 1)); }

# 1. The bundled guest, stepped exit by exit, a port breakpoint, screenshots; a KVM column that
#    cannot be built (no such KVM device) next to it must not disturb it.
echo "$name: running bundled_guest.gui"
if ! "$hvlab" gui --start-paused --side-by-side interp,kvm --kvm-device /nonexistent/kvm \
        --script "$scripts/bundled_guest.gui" --screenshot-dir "$shots"; then
    fail "bundled_guest.gui exited with status $?"
fi
for png in 01-reset-vector 02-first-exit 03-port-breakpoint 04-memory 05-console 06-screen 07-devices 08-taxonomy; do
    file="$shots/$png.png"
    if [ ! -s "$file" ]; then fail "no screenshot $file"; continue; fi
    if [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then fail "$file is not a PNG file"; fi
done

# 2. A failing expectation ends the run with status 14 and says which line failed.
echo "$name: running failing_expectation.gui (must fail)"
set +e
"$hvlab" gui --start-paused --script "$scripts/failing_expectation.gui" --screenshot-dir "$shots" 2>"$work/fail.err"
status=$?
set -e
if [ "$status" -ne 14 ]; then fail "failing_expectation.gui exited with $status, not 14"; fi
if ! grep -q "failing_expectation.gui:4: expect interp state running: timed out" "$work/fail.err"; then
    fail "no clear message for the failed expectation: $(cat "$work/fail.err")"
fi

if [ "$failures" -ne 0 ]; then exit 1; fi
echo "$name: passed; screenshots in $shots"
