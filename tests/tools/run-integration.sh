#!/bin/sh
# Run the bats integration suite against $1/skiff (as root: real containers).
set -u
build=$(cd "$1" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "integration: skipped, the suite runs real containers and needs root" >&2
  exit 0
fi
export SKIFF="$build/skiff" SKIFF_ROOTFS="$build/rootfs" SKIFF_BUILD="$build"
exec bats --print-output-on-failure tests/integration
