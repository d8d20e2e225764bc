#!/usr/bin/env bash
# A real colour image set from a package registry: the 64 × 64 PNG images of the npm
# package emoji-datasource-apple (16.0.0), unpacked into target/emoji/img (one flat folder,
# as `images(…)` reads). Not photos: the colour row of docs/results.md says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/target/emoji
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
(cd "$out.tmp" && npm pack --silent emoji-datasource-apple@16.0.0 >/dev/null && tar xzf emoji-datasource-apple-16.0.0.tgz)
mkdir -p "$out.tmp/img"
find "$out.tmp/package/img/apple/64" -name '*.png' -exec mv -t "$out.tmp/img" {} +
rm -rf "$out.tmp/package" "$out.tmp"/*.tgz "$out"
mv "$out.tmp" "$out"
echo "$(ls "$out/img" | wc -l) images in $out/img"
