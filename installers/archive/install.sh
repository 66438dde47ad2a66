#!/bin/sh
# Installs haul for you alone: the binaries into ~/.local/bin (or $PREFIX/bin), then registers
# the native host with the browsers installed here and starts haul at each login.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
bin="${PREFIX:-$HOME/.local}/bin"
mkdir -p "$bin"
install -m 755 "$here/haul" "$here/haul-native-host" "$bin/"
"$bin/haul" install --autostart
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "Add $bin to your PATH to run haul from a terminal." ;;
esac
