#!/bin/sh
# `make demo`: run docs/examples/hello.json with the busybox image built in
# BUILD/rootfs. Usage: demo.sh BUILD
#
# The example names its image "busybox" so it reads like a real task
# definition; the demo runs a copy whose image is dir:<BUILD/rootfs>.
set -eu
build=$(cd "${1:?usage: demo.sh BUILD}" && pwd)
skiff=$build/skiff
rootfs=$build/rootfs
example=docs/examples/hello.json
[ -x "$skiff" ] || { echo "demo: $skiff is missing (make BUILD=$1)" >&2; exit 1; }
[ -d "$rootfs" ] || { echo "demo: $rootfs is missing (make BUILD=$1 rootfs)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
task=$tmp/hello.json
sed "s|\"image\": \"busybox\"|\"image\": \"dir:$rootfs\"|" "$example" >"$task"

echo "demo: skiff run $example (image dir:$rootfs)"
status=0
"$skiff" run "$task" || status=$?
echo "demo: the task exited with status $status"
exit "$status"
