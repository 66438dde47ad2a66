#!/usr/bin/env bash
# Builds the release archive for Linux distributions without the .deb:
#
#   installers/release-archive.sh [TARGET_DIR] [OUT_DIR]
#
# TARGET_DIR holds built `haul` and `haul-native-host` (default: target/release, after
# `cargo build --release`); OUT_DIR defaults to dist/. Writes
# OUT_DIR/haul-<version>-<arch>-linux.tar.gz with the two binaries, the packed extensions
# (extension-stub/pack.sh), install.sh / uninstall.sh and a README for the user.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bins="${1:-$repo/target/release}"
out="${2:-$repo/dist}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)"
arch="$(uname -m)"
name="haul-$version-$arch-linux"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
install -m 755 "$bins/haul" "$bins/haul-native-host" "$stage/$name/"
"$repo/extension-stub/pack.sh" "$stage/$name" >/dev/null
install -m 755 "$repo/installers/archive/install.sh" "$repo/installers/archive/uninstall.sh" "$stage/$name/"
install -m 644 "$repo/installers/archive/README.txt" "$stage/$name/README.txt"
tar -C "$stage" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
