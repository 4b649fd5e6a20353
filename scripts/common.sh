# What the scripts share: the Debian packages the tests and the window need
# (installed when missing, as root, or named in one apt line otherwise), a
# throw-away HOME, and a virtual display.
# Sourced by scripts/test.sh, scripts/window-check.sh and scripts/bench.sh.

FARMHOOK_PACKAGES=(dbus dbus-daemon gnome-keyring xvfb xdotool imagemagick
  libegl1 libegl-mesa0 libgl1-mesa-dri libxkbcommon-x11-0 mosquitto mosquitto-clients
  python3-venv)

ensure_packages() {
  local missing=()
  command -v dbus-daemon >/dev/null || missing+=(dbus)
  command -v dbus-run-session >/dev/null || missing+=(dbus-daemon)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v Xvfb >/dev/null || missing+=(xvfb)
  command -v xdotool >/dev/null || missing+=(xdotool)
  command -v import >/dev/null || missing+=(imagemagick)
  # A real MQTT broker stands in for Bambu printers (/usr/sbin may not be on PATH).
  [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || missing+=(mosquitto)
  command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
  # scripts/octoprint.sh makes a venv for the real OctoPrint the tests run.
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
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

# Points HOME and the XDG dirs at "$1", so nothing touches the user's own
# keyring, config or caches. Cargo's own dirs stay where they were.
isolate_home() {
  local tmp=$1
  export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
  export XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
  mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
}

# Starts Xvfb on a free-ish display, logging to "$1/xvfb.log"; sets DISPLAY
# and XVFB_PID, and waits until the display answers.
start_xvfb() {
  local tmp=$1
  local display=":$((90 + RANDOM % 500))"
  Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
  XVFB_PID=$!
  export DISPLAY="$display" WAYLAND_DISPLAY=
  for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
}
