#!/usr/bin/env bash
# The README's test command. On a fresh Debian/Ubuntu machine it installs what
# the tests need (as root; otherwise it prints the apt line), then runs every
# test inside a private D-Bus session with a real, unlocked gnome-keyring, and
# with HOME and the XDG dirs pointed at a temp dir, so nothing touches your
# own keyring or config. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/common.sh
source scripts/common.sh
ensure_packages

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
tmp=$(mktemp -d -t farmhook-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
isolate_home "$tmp"
unset FARMHOOK_CONFIG_DIR FARMHOOK_DISCORD_API_BASE

# dbus-run-session ends the bus (and gnome-keyring with it) when cargo exits.
# Not exec'd: the trap above removes the temp dir once the tests are done.
dbus-run-session -- bash -c '
  set -euo pipefail
  printf farmhook-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export FARMHOOK_TEST_SECRET_SERVICE=1
  cargo test "$@"
' farmhook-tests "$@"
