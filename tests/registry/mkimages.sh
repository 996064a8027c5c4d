#!/bin/sh
# Build the test images as an OCI layout with umoci (no Docker):
#   OUT/layout:base      busybox + probe (one layer)
#   OUT/layout:multi     base + a files layer + a layer of whiteouts and an
#                        opaque directory (hand-made tar); Env, WorkingDir,
#                        Cmd, StopSignal in the config
#   OUT/layout:entry     multi with Entrypoint + Cmd
#   OUT/layout:multiarch index: linux/amd64 -> multi, linux/arm64 -> an arm64
#                        config over the same layers
#   OUT/layout:armonly   index with only linux/arm64
#   OUT/image.tar        `docker save`-style archive of multi (docker-archive:)
# Usage: mkimages.sh ROOTFS OUT
set -eu
rootfs=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)
layout=$out/layout
rm -rf "$layout" "$out/bundle" "$out/work"
umoci init --layout "$layout"
umoci new --image "$layout:base"
umoci unpack --image "$layout:base" "$out/bundle" >/dev/null
cp -a "$rootfs/." "$out/bundle/rootfs/"
umoci repack --image "$layout:base" "$out/bundle"
rm -rf "$out/bundle"

# Layer 2: files, some of which layer 3 deletes.
umoci unpack --image "$layout:base" "$out/bundle" >/dev/null
mkdir -p "$out/bundle/rootfs/opt" "$out/bundle/rootfs/data/old" "$out/bundle/rootfs/data/keep"
echo "hello from layer 2" >"$out/bundle/rootfs/opt/hello.txt"
echo "doomed" >"$out/bundle/rootfs/opt/doomed.txt"
echo "old a" >"$out/bundle/rootfs/data/old/a"
echo "old b" >"$out/bundle/rootfs/data/old/b"
echo "kept" >"$out/bundle/rootfs/data/keep/k"
umoci repack --image "$layout:base" --refresh-bundle "$out/bundle" 2>/dev/null ||
  umoci repack --image "$layout:base" "$out/bundle"
rm -rf "$out/bundle"
# umoci repack moved the tag; keep base as the one-layer image under its own tag.
umoci tag --image "$layout:base" multi

# Layer 3, by hand: a whiteout for opt/doomed.txt and an opaque data/old.
mkdir -p "$out/work/opt" "$out/work/data/old"
: >"$out/work/opt/.wh.doomed.txt"
: >"$out/work/data/old/.wh..wh..opq"
echo "new c" >"$out/work/data/old/c"
(cd "$out/work" && tar --owner=0 --group=0 --numeric-owner -cf "$out/layer3.tar" \
  opt/.wh.doomed.txt data/old/.wh..wh..opq data/old/c)
# umoci compresses what it adds: give it the plain tar.
umoci raw add-layer --image "$layout:multi" "$out/layer3.tar"
rm -rf "$out/work" "$out/layer3.tar"
umoci config --image "$layout:multi" --config.env SHARED=image --config.env IMAGE_ONLY=yes \
  --config.workingdir /opt --config.cmd cat --config.cmd /opt/hello.txt \
  --config.stopsignal SIGQUIT
umoci config --image "$layout:multi" --tag entry --config.entrypoint /bin/echo \
  --config.entrypoint E --config.cmd C
umoci gc --layout "$layout"

# The multi-arch indexes and the docker archive, by a small script.
python3 "$(dirname "$0")/mkindex.py" "$layout" "$out/image.tar"
