#!/usr/bin/env bash
# Builds the Debian package a farm operator installs:
#   bash scripts/package.sh        -> target/debian/farmhook_<version>_<arch>.deb
#   sudo apt-get install ./target/debian/farmhook_*.deb
#
# The package is staged by hand and built with dpkg-deb (no cargo-deb to
# compile): the release binary, the desktop launcher (checked with
# desktop-file-validate), the icon in the hicolor theme, the systemd user
# unit for `farmhook watch`, and the shared libraries the window loads at
# run time (the binary itself links only libc: EGL, X11, Wayland and
# xkbcommon are opened when the window starts). The keyring is the
# session's Secret Service, reached over D-Bus.
# Extra arguments go to `cargo build --release` (CI passes --locked).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v dpkg-deb >/dev/null || missing+=(dpkg)
  command -v desktop-file-validate >/dev/null || missing+=(desktop-file-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

cargo build --release "$@"
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/farmhook"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
out="$target/debian"
stage="$out/farmhook_${version}_${arch}"
deb="$out/farmhook_${version}_${arch}.deb"

desktop-file-validate assets/farmhook.desktop

rm -rf "$stage" "$deb"
install -Dm755 "$bin" "$stage/usr/bin/farmhook"
install -Dm644 assets/farmhook.desktop "$stage/usr/share/applications/farmhook.desktop"
install -Dm644 assets/farmhook.png "$stage/usr/share/icons/hicolor/64x64/apps/farmhook.png"
install -Dm644 assets/farmhook-watch.service "$stage/usr/lib/systemd/user/farmhook-watch.service"
install -d "$stage/usr/share/doc/farmhook"
gzip -9n <README.md >"$stage/usr/share/doc/farmhook/README.md.gz"
cat >"$stage/usr/share/doc/farmhook/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: farmhook
Comment: Print-farm notifications: Discord, Slack, Telegram, Pushover and a
 custom webhook, with every secret in the OS keyring.
EOF

installed_kb=$(du -sk "$stage/usr" | cut -f1)
install -d "$stage/DEBIAN"
# Depends: what the window opens at run time (EGL through glvnd with Mesa
# behind it, xkbcommon, X11's cursor/randr/input extensions, Wayland's
# client libraries), D-Bus for the keyring, and the system's CA certificates
# (every HTTPS and wss:// connection trusts what /etc/ssl/certs holds: Discord,
# Slack, Telegram, Pushover, a webhook, a printer behind TLS). Recommends: a Secret Service
# to keep the secrets in, and the portal rfd's file dialogs use.
cat >"$stage/DEBIAN/control" <<EOF
Package: farmhook
Version: $version
Architecture: $arch
Maintainer: farmhook developers <farmhook@localhost>
Installed-Size: $installed_kb
Section: net
Priority: optional
Depends: libc6, libgcc-s1, libegl1, libegl-mesa0 | libegl-vendor, libgl1-mesa-dri, libxkbcommon0, libxkbcommon-x11-0, libx11-6, libx11-xcb1, libxcursor1, libxrandr2, libxi6, libwayland-client0, libwayland-egl1, libwayland-cursor0, dbus, ca-certificates
Recommends: gnome-keyring | keepassxc, xdg-desktop-portal
Description: notifications for your 3D-print farm
 farmhook watches Bambu Lab, OctoPrint and Moonraker printers on the LAN and
 sends their events (job started, failed, finished, printer offline, HMS
 errors...) to Discord, Slack, Telegram, Pushover or a custom HTTPS webhook,
 each channel with its own choice of events. Every secret (webhook URLs,
 tokens, access codes) lives in the OS keyring, never in a file. A desktop
 window, a command line for everything, and `farmhook watch` as a systemd
 user service for the always-on box.
EOF
# The user unit is not enabled for anyone: each operator enables it in their
# own session (`systemctl --user enable --now farmhook-watch`), because the
# secrets live in that user's keyring.

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
rm -rf "$stage"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Installed-Size\|Depends\):/\1:/p' >&2
echo "$deb"
