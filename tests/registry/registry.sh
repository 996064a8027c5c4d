#!/bin/sh
# Start / stop a throw-away Docker registry (Debian's docker-registry) on
# 127.0.0.1 at a free port, with its storage in DIR, and push the test
# images into it with skopeo. Used by tests/integration/images.bats and
# tests/bench/pull.sh; everything stays on loopback.
#
#   registry.sh start DIR [LAYOUT]   prints the port; pushes LAYOUT's tags
#   registry.sh stop DIR
set -eu
cmd=$1
dir=$2

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
  layout=${3:-}
  mkdir -p "$dir/storage"
  port=$(free_port)
  cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  echo "$port" >"$dir/port"
  i=0
  until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "registry did not start:" >&2; cat "$dir/registry.log" >&2; exit 1; }
    sleep 0.1
  done
  if [ -n "$layout" ]; then
    for tag in base multi entry; do
      skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$tag" \
        "docker://127.0.0.1:$port/skiff/test:$tag" >&2
    done
    for tag in multiarch armonly; do
      skopeo copy --quiet --all --dest-tls-verify=false "oci:$layout:$tag" \
        "docker://127.0.0.1:$port/skiff/test:$tag" >&2
    done
  fi
  echo "$port"
  ;;
stop)
  if [ -f "$dir/registry.pid" ]; then
    kill "$(cat "$dir/registry.pid")" 2>/dev/null || true
    rm -f "$dir/registry.pid"
  fi
  ;;
*)
  echo "usage: registry.sh start|stop DIR [LAYOUT]" >&2
  exit 2
  ;;
esac
