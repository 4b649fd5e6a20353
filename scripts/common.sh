# The Debian packages the tests and the window check need, installed when
# missing (as root) or named in one apt line (otherwise).
# Sourced by scripts/test.sh and scripts/window-check.sh.

FARMHOOK_PACKAGES=(dbus dbus-daemon gnome-keyring xvfb xdotool imagemagick
  libegl1 libegl-mesa0 libgl1-mesa-dri libxkbcommon-x11-0)

ensure_packages() {
  local missing=()
  command -v dbus-daemon >/dev/null || missing+=(dbus)
  command -v dbus-run-session >/dev/null || missing+=(dbus-daemon)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v Xvfb >/dev/null || missing+=(xvfb)
  command -v xdotool >/dev/null || missing+=(xdotool)
  command -v import >/dev/null || missing+=(imagemagick)
  # The window loads these at run time (EGL + Mesa's llvmpipe, xkbcommon).
  ldconfig -p | grep -q 'libEGL.so.1 ' || missing+=(libegl1)
  ldconfig -p | grep -q 'libEGL_mesa.so.0 ' || missing+=(libegl-mesa0 libgl1-mesa-dri)
  ldconfig -p | grep -q 'libxkbcommon-x11.so.0 ' || missing+=(libxkbcommon-x11-0)
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
