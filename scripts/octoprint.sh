#!/usr/bin/env bash
# A real OctoPrint with its virtual printer, for the OctoPrint source's tests.
#
#   bash scripts/octoprint.sh ensure
#       creates (once) a venv with OctoPrint $OCTOPRINT_VERSION and prints its
#       path. Cached under $FARMHOOK_TEST_CACHE (the tests point it at
#       target/tmp), else ${XDG_CACHE_HOME:-$HOME/.cache}/farmhook-test.
#   bash scripts/octoprint.sh serve BASEDIR PORT USER APIKEY
#       writes a basedir (first run done, no online checks, no tracking, the
#       virtual printer on autoconnect), adds USER as an admin whose API key
#       is APIKEY, and serves on 127.0.0.1:PORT until its stdin closes (the
#       test holds it open, so the server ends with the test binary).
# Needs python3 with venv (python3-venv, from scripts/common.sh) and PyPI.
set -euo pipefail

OCTOPRINT_VERSION=1.11.8
cache="${FARMHOOK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/farmhook-test}"
venv="$cache/octoprint-venv-$OCTOPRINT_VERSION"

ensure_venv() {
  if [ -x "$venv/bin/octoprint" ] && [ -f "$venv/.complete" ]; then
    return 0
  fi
  mkdir -p "$cache"
  # One installer at a time; the loser of the race finds it done.
  exec 9>"$cache/octoprint-venv.lock"
  flock 9
  if [ -x "$venv/bin/octoprint" ] && [ -f "$venv/.complete" ]; then
    return 0
  fi
  rm -rf "$venv"
  echo "installing OctoPrint $OCTOPRINT_VERSION into $venv (about 35 s, once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "octoprint==$OCTOPRINT_VERSION" >&2
  touch "$venv/.complete"
}

serve() {
  local basedir=$1 port=$2 user=$3 apikey=$4
  mkdir -p "$basedir"
  cat >"$basedir/config.yaml" <<'YAML'
server:
  firstRun: false
  onlineCheck:
    enabled: false
  pluginBlacklist:
    enabled: false
plugins:
  tracking:
    enabled: false
  announcements:
    enabled_channels: []
  softwareupdate:
    check_overlay_url: ''
serial:
  port: VIRTUAL
  baudrate: 0
  autoconnect: true
devel:
  virtualPrinter:
    enabled: true
YAML
  if ! grep -qs "^$user:" "$basedir/users.yaml"; then
    "$venv/bin/octoprint" --basedir "$basedir" user add "$user" \
      --password "farmhook-test-password" --admin >/dev/null
  fi
  "$venv/bin/python" - "$basedir/users.yaml" "$user" "$apikey" <<'PY'
import sys, yaml
path, user, key = sys.argv[1:]
with open(path) as f:
    users = yaml.safe_load(f)
users[user]["apikey"] = key
with open(path, "w") as f:
    yaml.safe_dump(users, f)
PY
  "$venv/bin/octoprint" --basedir "$basedir" serve --iknowwhatimdoing \
    --host 127.0.0.1 --port "$port" </dev/null >"$basedir/serve.log" 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT
  echo "serving OctoPrint on 127.0.0.1:$port (log: $basedir/serve.log)" >&2
  # Until whoever started us goes away (or OctoPrint itself ends).
  cat <&0 >/dev/null &
  local reader=$!
  wait -n "$server_pid" "$reader" || true
  kill "$reader" 2>/dev/null || true
}

case "${1:-}" in
  ensure)
    ensure_venv
    echo "$venv"
    ;;
  serve)
    [ $# -eq 5 ] || { echo "usage: $0 serve BASEDIR PORT USER APIKEY" >&2; exit 2; }
    ensure_venv
    serve "$2" "$3" "$4" "$5"
    ;;
  *)
    echo "usage: $0 ensure | serve BASEDIR PORT USER APIKEY" >&2
    exit 2
    ;;
esac
