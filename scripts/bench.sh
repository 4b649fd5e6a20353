#!/usr/bin/env bash
# The performance figures of the README, in one command:
#   bash scripts/bench.sh
# Builds the release binary, opens the real window under Xvfb (start to first
# frame, RSS, idle CPU over 10 s), runs the frame-cost and delivery
# benchmarks and the peak memory of `simulate` against slow destinations
# (in a private Secret Service session), and prints one table. Nothing is
# asserted: compare the figures with the budget in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages

cargo build --release --locked
bin="${CARGO_TARGET_DIR:-target}/release/farmhook"
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(uname -sr)"

tmp=$(mktemp -d -t farmhook-bench.XXXXXX)
cleanup() {
  pkill -f "$bin --profile bench-window" 2>/dev/null || true
  [ -n "${XVFB_PID:-}" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
isolate_home "$tmp"
start_xvfb "$tmp"

# One run of the window: prints "<first-frame ms> <rss kB> <idle cpu %>".
# Only the first run waits the 10 s for the idle figure.
window_run() {
  local measure_idle=$1 log="$tmp/app.log"
  FARMHOOK_STARTUP_REPORT=1 dbus-run-session -- bash -c '
    printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$0" --profile bench-window --config-dir "$1"
  ' "$bin" "$tmp/config/farmhook" >"$log" 2>&1 &
  local ms=""
  for _ in $(seq 300); do
    ms=$(sed -n 's/.*first frame built \([0-9.]*\) ms.*/\1/p' "$log")
    [ -n "$ms" ] && break
    sleep 0.05
  done
  local pid
  pid=$(pgrep -n -f "$bin --profile bench-window")
  sleep 3
  local rss idle="-"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  if [ "$measure_idle" = 1 ]; then
    local hz t0 t1
    hz=$(getconf CLK_TCK)
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 10
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    idle=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / 10 * 100 }')
  fi
  kill "$pid"
  wait 2>/dev/null || true
  echo "$ms $rss $idle"
}

echo "== the window under Xvfb (5 starts)" >&2
read -r first_ms first_rss idle_cpu < <(window_run 1)
starts=("$first_ms")
for _ in 1 2 3 4; do
  read -r ms _ _ < <(window_run 0)
  starts+=("$ms")
done
median_start=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 3p)

echo "== frame cost (cargo bench --bench frame_cost)" >&2
cargo bench --locked --bench frame_cost 2>/dev/null | tee "$tmp/frame.txt" >&2
echo "== delivery (cargo bench --bench delivery)" >&2
cargo bench --locked --bench delivery 2>/dev/null | tee "$tmp/delivery.txt" >&2
echo "== chat channels under a burst (cargo bench --bench chat_burst, about 30 s)" >&2
cargo bench --locked --bench chat_burst 2>/dev/null | tee "$tmp/chat.txt" >&2
echo "== memory under a burst (cargo bench --bench burst_memory, about 70 s)" >&2
# The profile's secrets live in a keyring: a private one, as in test.sh.
dbus-run-session -- bash -c '
  printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec cargo bench --locked --bench burst_memory
' 2>/dev/null | tee "$tmp/burst.txt" >&2

size=$(stat -c %s "$bin")
echo
echo "machine: $machine"
printf '| figure | measured | budget |\n|---|---|---|\n'
printf '| start to first frame (first / median of 5) | %s ms / %s ms | ≤ 250 ms |\n' "$first_ms" "$median_start"
printf '| RSS 3 s after start | %s MB | ≤ 110 MB |\n' "$(awk -v k="$first_rss" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '| CPU over 10 s idle, window open | %s %% | < 1 %% |\n' "$idle_cpu"
grep '^| frame' "$tmp/frame.txt" || true
grep '^| one delivery record' "$tmp/frame.txt" || true
sed -n 's/^throughput: \(.*\)/| engine throughput | \1 | ≥ 0.9× bare reqwest |/p' "$tmp/delivery.txt"
sed -n 's/^burst: \(.*\)/| 50-event Discord burst | \1 | 0 lost, ≤ 1 × 429 |/p' "$tmp/delivery.txt"
sed -n 's/^chat burst: \([A-Za-z]*\): \(.*\)/| 50-event \1 burst | \2 | 0 lost, ≤ 1 × 429 |/p' "$tmp/chat.txt"
sed -n 's/^burst memory: \(.*\)/| simulate at 500 printers ×50, slow destinations | \1 | bounded |/p' "$tmp/burst.txt"
printf '| stripped release binary | %s MB | ≤ 20 MB |\n' "$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }')"
