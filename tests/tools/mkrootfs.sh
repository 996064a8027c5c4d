#!/bin/sh
# Build a small root filesystem from Debian's busybox-static: the demo image
# and the test image. Usage: mkrootfs.sh DIR [PROBE]
set -eu
dir=$1
probe=${2:-}
case "$probe" in "" | /*) ;; *) probe="$(pwd)/$probe" ;; esac
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkrootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
cd "$dir.tmp"
mkdir -p bin sbin usr/bin usr/sbin etc tmp proc sys dev root home/app var/tmp run
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
done
cat > etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app user:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > etc/group <<'GR'
root:x:0:
daemon:x:1:
tty:x:5:
audio:x:29:app
video:x:44:app
app:x:1000:
nogroup:x:65534:
GR
echo "skiff-image" > etc/hostname
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > etc/hosts
chown 1000:1000 home/app
if [ -n "$probe" ]; then
  cp "$probe" usr/bin/probe
fi
cd - >/dev/null
rm -rf "$dir"
mv "$dir.tmp" "$dir"
