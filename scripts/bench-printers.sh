#!/usr/bin/env bash
# 200 Bambu printers (one real mosquitto over TLS, 200 serials) watched by
# one `farmhook watch` (the release build) and, in the same run, by the
# Python client the anchors use (bambulabs-api, one Printer per printer):
# RSS, CPU idle and under a burst, event-to-delivery latency, events lost.
#   bash scripts/bench-printers.sh
# Installs what it needs (scripts/common.sh; bambulabs-api into a venv under
# target/tmp), runs benches/printers_200.rs inside a private D-Bus session
# with gnome-keyring and a throw-away HOME, and prints one table. Nothing is
# asserted. About 2 minutes once built. Not part of scripts/test.sh (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages

BAMBULABS_API_VERSION=2.6.6
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$CARGO_TARGET_DIR/tmp/bambulabs-api-venv-$BAMBULABS_API_VERSION"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  echo "installing bambulabs-api $BAMBULABS_API_VERSION into $venv (a few seconds, once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "bambulabs-api==$BAMBULABS_API_VERSION" >&2
  touch "$venv/.complete"
fi
export FARMHOOK_BENCH_PYTHON="$venv/bin/python"

# Built before the clock starts (the release binary, fat LTO: minutes).
cargo bench --locked --bench printers_200 --no-run >&2

tmp=$(mktemp -d -t farmhook-bench-printers.XXXXXX)
# The bench ends its children itself (mosquitto, `farmhook watch`, the
# Python client), also when it fails; should it be killed instead, the ids
# it wrote down are ended here, one by one.
export FARMHOOK_BENCH_PIDS="$tmp/pids"
cleanup() {
  if [ -f "$FARMHOOK_BENCH_PIDS" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$FARMHOOK_BENCH_PIDS"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
isolate_home "$tmp"
unset FARMHOOK_CONFIG_DIR FARMHOOK_DISCORD_API_BASE

# A private D-Bus session with an unlocked gnome-keyring for the printers'
# access codes and the webhook's key; it ends with the bench.
dbus-run-session -- bash -c '
  set -euo pipefail
  printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec cargo bench --locked --bench printers_200
'
