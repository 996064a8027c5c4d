# shellcheck shell=bash
# Helpers shared by the VM scripts (sourced by bash, not run).
#
# A staging directory ($STAGE) becomes the VM's root filesystem. It uses
# Debian's merged-/usr layout so that the paths ldd prints
# (/lib/x86_64-linux-gnu/..., /lib64/ld-linux-x86-64.so.2) are where the
# dynamic loader looks for them inside the VM.

say() { echo "vm: $*" >&2; }
die() {
  say "error: $*"
  exit 125
}

stage_skeleton() {
  local d
  mkdir -p "$STAGE"/usr/{bin,sbin,lib,lib64} "$STAGE"/{dev,proc,sys,tmp,run,root,etc,mnt,newroot}
  for d in bin sbin lib lib64; do
    [ -e "$STAGE/$d" ] || ln -s "usr/$d" "$STAGE/$d"
  done
}

# Copy a host file to the same absolute path in the VM. A symlink at the leaf
# is followed: libfoo.so.1 -> libfoo.so.1.2.3 arrives as a regular file.
stage_file() {
  mkdir -p "$STAGE$(dirname "$1")"
  cp -L --remove-destination "$1" "$STAGE$1"
}

# The shared libraries of an ELF file, as ldd resolves them on the host.
# dlopen()ed libraries are invisible here; stage those explicitly.
declare -A STAGED_LIB=()
stage_libs() {
  local lib
  [ "$(head -c 4 "$1" 2>/dev/null)" = $'\x7fELF' ] || return 0
  for lib in $(ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
    [ -n "${STAGED_LIB[$lib]:-}" ] && continue
    STAGED_LIB[$lib]=1
    [ -e "$STAGE$lib" ] || stage_file "$lib"
  done
}

# A file or a whole directory, at the same path, with the libraries of every
# executable in it.
stage_path() {
  local abs f
  abs=$(realpath -s "$1")
  if [ -d "$abs" ]; then
    mkdir -p "$STAGE$abs"
    cp -a "$abs/." "$STAGE$abs/"
    while IFS= read -r -d '' f; do stage_libs "$f"; done \
      < <(find "$abs" -type f -perm /111 -print0)
  else
    stage_file "$abs"
    stage_libs "$abs"
  fi
}

# A host file or directory at another path in the VM (SRC DEST), with the
# libraries of its executables at their usual places. The repository and the
# build go to fixed paths: wherever the host keeps them (a CI clone under
# /tmp, say), the VM mounts tmpfs over /tmp and /run.
stage_path_as() {
  local abs f
  abs=$(realpath -s "$1")
  mkdir -p "$STAGE$(dirname "$2")"
  if [ -d "$abs" ]; then
    mkdir -p "$STAGE$2"
    cp -a "$abs/." "$STAGE$2/"
    while IFS= read -r -d '' f; do stage_libs "$f"; done \
      < <(find "$abs" -type f -perm /111 -print0)
  else
    cp -L --remove-destination "$abs" "$STAGE$2"
    stage_libs "$abs"
  fi
}

# An uncompressed newc archive: QEMU copies it into guest memory for free,
# while decompressing would run as slow emulated code. Owners are kept when
# we are root (the test rootfs has files of uid 1000); otherwise everything
# becomes root's, as it would be on the host.
stage_cpio() {
  local owner=()
  [ "$(id -u)" -eq 0 ] || owner=(-R 0:0)
  (cd "$STAGE" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc "${owner[@]}" --quiet) >"$1"
}
