# The Debian packages the tests and the window check need, installed when
# missing (as root) or named in one apt line (otherwise).
# Sourced by scripts/test.sh and scripts/window-check.sh.

FARMHOOK_PACKAGES=(dbus dbus-daemon gnome-keyring xvfb xdotool imagemagick)

ensure_packages() {
  local missing=()
  command -v dbus-daemon >/dev/null || missing+=(dbus)
  command -v dbus-run-session >/dev/null || missing+=(dbus-daemon)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v Xvfb >/dev/null || missing+=(xvfb)
  command -v xdotool >/dev/null || missing+=(xdotool)
  command -v import >/dev/null || missing+=(imagemagick)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "farmhook's tests need a few packages; install them with:" >&2
    echo "  sudo apt-get install -y ${FARMHOOK_PACKAGES[*]}" >&2
    exit 2
  fi
}
