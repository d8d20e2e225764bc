#!/usr/bin/env bash
# A real colour image set from a package registry: the 64 × 64 PNG images of the npm
# package emoji-datasource-apple (16.0.0), unpacked into target/emoji/img (one flat folder,
# as `images(…)` reads), and target/emoji/labels.txt: each image's category in the
# package's emoji.json (Smileys & Emotion, People & Body, …; skin tones take their base
# emoji's; the four unlisted hair-style images are Component), the classes of the FID with local classifier features. Not photos: the
# colour row of docs/results.md says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/target/emoji
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
(cd "$out.tmp" && npm pack --silent emoji-datasource-apple@16.0.0 >/dev/null && tar xzf emoji-datasource-apple-16.0.0.tgz)
mkdir -p "$out.tmp/img"
find "$out.tmp/package/img/apple/64" -name '*.png' -exec mv -t "$out.tmp/img" {} +
python3 - "$out.tmp/package/emoji.json" "$out.tmp/img" > "$out.tmp/labels.txt" <<'PY'
import json, os, sys
emoji = json.load(open(sys.argv[1]))
classes = sorted({e["category"] for e in emoji})
label = {}
for e in emoji:
    c = classes.index(e["category"])
    label[e["image"]] = c
    if e.get("non_qualified"):
        label[e["non_qualified"].lower() + ".png"] = c
    for v in (e.get("skin_variations") or {}).values():
        label[v["image"]] = c
# The four hair-style images (1f9b0-1f9b3) are not listed: components, like skin tones.
component = classes.index("Component")
for name in sorted(os.listdir(sys.argv[2])):
    print(name, label.get(name, component))
PY
rm -rf "$out.tmp/package" "$out.tmp"/*.tgz "$out"
mv "$out.tmp" "$out"
echo "$(ls "$out/img" | wc -l) images in $out/img"
