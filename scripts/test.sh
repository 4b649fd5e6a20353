#!/usr/bin/env bash
# The README's test command. On a fresh Debian/Ubuntu machine it installs what
# the tests need (as root; otherwise it prints the apt line), then runs every
# test inside a private D-Bus session with a real, unlocked gnome-keyring, and
# with HOME and the XDG dirs pointed at a temp dir, so nothing touches your
# own keyring or config. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/packages.sh
source scripts/packages.sh
ensure_packages

# Keep cargo's own dirs where they are before HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

tmp=$(mktemp -d -t farmhook-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset FARMHOOK_CONFIG_DIR FARMHOOK_DISCORD_API_BASE

# dbus-run-session ends the bus (and gnome-keyring with it) when cargo exits.
exec dbus-run-session -- bash -c '
  set -euo pipefail
  printf farmhook-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export FARMHOOK_TEST_SECRET_SERVICE=1
  cargo test "$@"
' farmhook-tests "$@"
