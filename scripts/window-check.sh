#!/usr/bin/env bash
# Opens the real farmhook window under Xvfb with a temp profile, waits for it,
# saves a screenshot to target/window.png and fails if nothing was drawn.
# Used by .ci/run; run it yourself after `cargo build`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages

bin="${FARMHOOK_BIN:-${CARGO_TARGET_DIR:-target}/debug/farmhook}"
[ -x "$bin" ] || cargo build
shot="${1:-target/window.png}"

tmp=$(mktemp -d -t farmhook-window.XXXXXX)
cleanup() {
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null || true
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
# Keep cargo's own dirs where they are before HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

display=":$((90 + RANDOM % 500))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
export DISPLAY="$display" WAYLAND_DISPLAY= 
for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done

dbus-run-session -- bash -c '
  printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$0" --profile window-check --config-dir "$1"
' "$bin" "$tmp/config/farmhook" >"$tmp/app.log" 2>&1 &
app=$!

if ! window=$(timeout 30 xdotool search --sync --name '^farmhook' | head -1); then
  echo "window-check: no farmhook window appeared within 30 s" >&2
  cat "$tmp/app.log" >&2
  exit 1
fi
# Let a few frames render before the screenshot.
sleep 2
mkdir -p "$(dirname "$shot")"
import -window root "$shot"
colours=$(convert "$shot" -format '%k' info:)
echo "window-check: window $window rendered, $colours colours, screenshot in $shot"
if [ "$colours" -lt 8 ]; then
  echo "window-check: the screenshot is (nearly) one colour: the window did not render" >&2
  cat "$tmp/app.log" >&2
  exit 1
fi
