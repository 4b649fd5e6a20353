#!/usr/bin/env bash
# The README's screenshots: a profile with all five channels set up (made-up
# but well-formed secrets, in a private keyring), the real window under Xvfb,
# the Account page with the Notifications tile to docs/window.png and the
# Notifications page to docs/window-notifications.png, its Telegram section
# to docs/window-telegram.png. Nothing is sent: no
# event happens while the window is open.
# Run after `cargo build`: bash scripts/screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages

bin="${FARMHOOK_BIN:-${CARGO_TARGET_DIR:-target}/debug/farmhook}"
[ -x "$bin" ] || cargo build
out="${1:-docs}"
mkdir -p "$out"

tmp=$(mktemp -d -t farmhook-shot.XXXXXX)
cleanup() {
  [ -n "${XVFB_PID:-}" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
isolate_home "$tmp"
start_xvfb "$tmp"

dbus-run-session -- bash -s "$bin" "$tmp/config/farmhook" "$out" <<'INNER'
set -euo pipefail
bin=$1 dir=$2 out=$3
printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
fh() { "$bin" --profile farm --config-dir "$dir" "$@"; }
fh plan commercial >/dev/null
fh discord set-url - <<<'https://discord.com/api/webhooks/112233445566778899/Ab-cd_EF0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX' >/dev/null
fh slack set-url - <<<'https://hooks.slack.com/services/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' >/dev/null
fh telegram set-token - <<<'123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0' >/dev/null
fh telegram set-chat -1001234567890 >/dev/null
fh pushover set-token - <<<'azGDORePK8gMaC0QOYAMyEEuzJnyUi' >/dev/null
fh pushover set-user - <<<'uQiRzpo4DXghDmr9QzzfQu27cmVRsG' >/dev/null
fh webhook set-url - <<<'https://ha.example/api/webhook/farm-alerts' >/dev/null
for ch in discord slack telegram pushover webhook; do fh "$ch" enable >/dev/null; done
fh events enable all --to webhook >/dev/null
"$bin" --profile farm --config-dir "$dir" >"$out/.app.log" 2>&1 &
app=$!
window=$(timeout 30 xdotool search --sync --name '^farmhook' | head -1)
sleep 3
import -window root "$out/window.png"
xdotool mousemove --window "$window" 55 223 click 1
sleep 2
xdotool mousemove --window "$window" 900 60
sleep 1
import -window root "$out/window-notifications.png"
# The Telegram section: its token, chat and Find chat.
xdotool mousemove --window "$window" 55 180 click 1 mousemove --window "$window" 900 60
sleep 2
import -window root "$out/window-telegram.png"
kill "$app"
rm -f "$out/.app.log"
INNER
echo "screenshot: $out/window.png, window-notifications.png and window-telegram.png"
