#!/bin/sh
# Undoes install.sh: what `haul install` wrote, then the two binaries.
set -eu
bin="${PREFIX:-$HOME/.local}/bin"
"$bin/haul" uninstall
rm -f "$bin/haul" "$bin/haul-native-host"
