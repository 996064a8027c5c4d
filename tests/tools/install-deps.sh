#!/bin/sh
# Install the Debian packages named on the command line that are missing.
# As root: apt-get installs them. Otherwise: one clear message, exit 1.
set -eu
missing=""
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $pkg"
  fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "skiff build: missing Debian packages:$missing" >&2
  echo "skiff build: run as root, or: sudo apt-get install$missing" >&2
  exit 1
fi
echo "skiff build: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
