#!/usr/bin/env bash
# Opens the real farmhook window under Xvfb with a temp profile, waits for it,
# saves a screenshot to target/window.png and fails if nothing was drawn; then
# presses Configure and saves the Notifications page to
# target/window-notifications.png.
# Used by .ci/run; run it yourself after `cargo build`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages

bin="${FARMHOOK_BIN:-${CARGO_TARGET_DIR:-target}/debug/farmhook}"
[ -x "$bin" ] || cargo build
shot="${1:-target/window.png}"

tmp=$(mktemp -d -t farmhook-window.XXXXXX)
cleanup() {
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null || true
  [ -n "${XVFB_PID:-}" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
isolate_home "$tmp"
start_xvfb "$tmp"

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

# The Notifications page: press Configure (where the Account page draws it in
# the window's default size) and check that the page changed.
page="${shot%.png}-notifications.png"
xdotool mousemove --window "$window" 55 223 click 1
sleep 2
import -window root "$page"
difference=$(compare -metric AE "$shot" "$page" null: 2>&1 || true)
echo "window-check: Notifications page in $page ($difference pixels differ)"
if [ "${difference%% *}" = "0" ]; then
  echo "window-check: pressing Configure changed nothing on screen" >&2
  exit 1
fi
