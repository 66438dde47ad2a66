#!/usr/bin/env bash
# Packs haul's extension for installing and for the stores, from this folder as it is:
#
#   extension-stub/pack.sh [OUT_DIR]          (default OUT_DIR: dist/ in the checkout)
#
# writes OUT_DIR/haul-extension.zip (Chrome, Chromium, Edge, Brave, Vivaldi: manifest.json with its
# committed `key`, so an unpacked install has the id `haul install` allows by default; pass
# --store to leave the key out, as the Chrome Web Store wants) and OUT_DIR/haul-extension.xpi
# (Firefox: manifest.firefox.json as manifest.json; the same scripts, pages and icons).
# Entries are stored in a fixed order with a fixed date, so the same sources give the same bytes.
# Needs python3 (for zipfile and json; no network).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
store=0
out=""
for arg in "$@"; do
  case "$arg" in
    --store) store=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) out="$arg" ;;
  esac
done
out="${out:-$here/../dist}"
mkdir -p "$out"
python3 - "$here" "$out" "$store" <<'PY'
import json, os, sys, zipfile

src, out, store = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
# Everything the manifests and pages load; a missing file stops the build.
FILES = [
    "background.js", "content.js", "wrap.js",
    "popup.html", "popup.js", "options.html", "options.js", "ui.css",
    "icons/icon-16.png", "icons/icon-32.png", "icons/icon-48.png", "icons/icon-128.png",
]
DATE = (2020, 1, 1, 0, 0, 0)

def pack(target, manifest_name, drop_key):
    with open(os.path.join(src, manifest_name), encoding="utf-8") as f:
        manifest = json.load(f)
    if drop_key:
        manifest.pop("key", None)
    tmp = target + ".partial"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name, data):
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
        add("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for name in FILES:
            with open(os.path.join(src, name), "rb") as f:
                add(name, f.read())
    os.replace(tmp, target)
    print(target)

pack(os.path.join(out, "haul-extension.zip"), "manifest.json", store)
pack(os.path.join(out, "haul-extension.xpi"), "manifest.firefox.json", True)
PY
