#!/usr/bin/env bash
# Installs the .deb scripts/package.sh built, runs the installed farmhook
# (`--version`, and `status` against a private Secret Service in a throw-away
# HOME), checks what the package put where, and removes it again. As root
# (CI); elsewhere it says what it would need.
#   bash scripts/package-check.sh target/debian/farmhook_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
deb=$1
if [ "$(id -u)" != 0 ]; then
  echo "package-check: installing a .deb needs root; try: sudo bash $0 $deb" >&2
  exit 2
fi
case "$deb" in /*) ;; *) deb="./$deb" ;; esac

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
for f in /usr/bin/farmhook /usr/share/applications/farmhook.desktop \
  /usr/share/icons/hicolor/64x64/apps/farmhook.png \
  /usr/lib/systemd/user/farmhook-watch.service; do
  [ -f "$f" ] || { echo "package-check: $f is missing after install" >&2; exit 1; }
done
/usr/bin/farmhook --version

tmp=$(mktemp -d -t farmhook-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(
  isolate_home "$tmp"
  dbus-run-session -- bash -c '
    printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    /usr/bin/farmhook status
  '
)

DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq farmhook >/dev/null
if [ -e /usr/bin/farmhook ] || dpkg -s farmhook >/dev/null 2>&1; then
  echo "package-check: farmhook is still installed after apt-get remove" >&2
  exit 1
fi
echo "package-check: installed, ran --version and status, removed"
