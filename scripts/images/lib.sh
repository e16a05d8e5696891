# shellcheck shell=bash
# Shared steps of the image scripts beside this file: a build context (Dockerfile
# + rootfs.tar) made from Debian packages of this machine's apt sources, with only
# the files an image needs and the shared libraries they load (found with ldd).
# No Docker Hub, no RUN in the Dockerfile (the legacy builder, no network): the
# image is `FROM scratch` + `ADD rootfs.tar /`.
#
# A context is cached outside the repository, keyed by the script and the
# package versions: ${HASHISHIP_CACHE:-~/.cache/hashiship}/images/<name>-<key>/.
# The script prints that folder on its last line; `docker build` it.
set -euo pipefail

images_dir="${HASHISHIP_CACHE:-$HOME/.cache/hashiship}/images"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# image_begin NAME PACKAGE...: prints the cached context and exits when it exists;
# otherwise downloads and unpacks the packages into $x and prepares $root.
image_begin() {
  name="$1"
  shift
  packages=("$@")
  local versions key
  versions="$(apt-cache policy "${packages[@]}" | awk '/^[^ ]/ {p=$1} /Candidate:/ {print p, $2}')"
  if grep -q '(none)' <<<"$versions"; then
    echo "image $name: a package has no candidate in the apt sources:" >&2
    echo "$versions" >&2
    exit 1
  fi
  key="$( (cat "$here/lib.sh" "$0"; echo "$versions") | sha256sum | cut -c1-12)"
  out="$images_dir/$name-$key"
  if [ -f "$out/rootfs.tar" ] && [ -f "$out/Dockerfile" ]; then
    echo "$out"
    exit 0
  fi
  work="$(mktemp -d "${TMPDIR:-/tmp}/hashiship-image-$name.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  x="$work/x"
  root="$work/root"
  mkdir -p "$x" "$root" "$work/debs" "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  if [ "${image_download:-1}" = 1 ]; then
    echo "image $name: apt-get download ${packages[*]}" >&2
    (cd "$work/debs" && apt-get download -qq -o APT::Sandbox::User=root "${packages[@]}" >/dev/null)
    for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$x"; done
  fi
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

# copy_in SRC DEST: one file or tree into the image, symlinks resolved.
copy_in() {
  mkdir -p "$root/$(dirname "$2")"
  cp -rL "$1" "$root/$2"
}

# add_files PATH...: files or folders of the unpacked packages, at the same path.
add_files() {
  local p
  for p in "$@"; do
    [ -e "$x/$p" ] || { echo "image $name: $p is not in ${packages[*]}" >&2; exit 1; }
    copy_in "$x/$p" "$p"
  done
}

# add_libs FILE...: the shared libraries FILE loads (and the loader), from the
# unpacked packages first, then from this machine (the same Debian release).
# $extra_libs: more folders to search (a program's own RPATH folders).
add_libs() {
  local f lib
  for f in "$@"; do
    LD_LIBRARY_PATH="${extra_libs:+$extra_libs:}$x/usr/lib/x86_64-linux-gnu:$x/lib/x86_64-linux-gnu" ldd "$f" 2>/dev/null |
      awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
      while read -r lib; do
        case "$lib" in
          "$root"/*) ;;
          "$x"/*) [ -e "$root/${lib#"$x"/}" ] || copy_in "$lib" "${lib#"$x"/}" ;;
          *) [ -e "$root/$lib" ] || copy_in "$lib" "$lib" ;;
        esac
      done
    # Read whole, then searched: with pipefail an early `grep -q` exit can fail the pipe (SIGPIPE) and hide a missing library.
    libs=$(LD_LIBRARY_PATH="${extra_libs:+$extra_libs:}$x/usr/lib/x86_64-linux-gnu:$x/lib/x86_64-linux-gnu" ldd "$f" 2>/dev/null || true)
    if grep -q 'not found' <<<"$libs"; then
      echo "image $name: $f: a library is missing:" >&2
      LD_LIBRARY_PATH="${extra_libs:+$extra_libs:}$x/usr/lib/x86_64-linux-gnu:$x/lib/x86_64-linux-gnu" ldd "$f" | grep 'not found' >&2
      exit 1
    fi
  done
}

# add_programs PATH...: add_files + add_libs.
add_programs() {
  local p
  for p in "$@"; do
    add_files "$p"
    add_libs "$root/$p"
  done
}

# add_busybox: /bin/sh and the usual commands, from Debian's static busybox
# (needs busybox-static among the packages).
add_busybox() {
  add_files bin/busybox
  local a
  for a in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
  done
}

# image_end DOCKERFILE-LINES: writes the Dockerfile (after `FROM scratch` and
# `ADD rootfs.tar /`) and the reproducible rootfs.tar, moves the context into the
# cache and prints its folder.
image_end() {
  {
    echo "# Made by scripts/images/$(basename "$0") from Debian packages: ${packages[*]}"
    echo 'FROM scratch'
    echo 'ADD rootfs.tar /'
    echo 'ENV LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'
    printf '%s\n' "$@"
  } >"$work/Dockerfile"
  tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .
  mkdir -p "$images_dir"
  rm -rf "$out.tmp"
  mkdir "$out.tmp"
  mv "$work/Dockerfile" "$work/rootfs.tar" "$out.tmp/"
  rm -rf "$out"
  mv "$out.tmp" "$out"
  echo "image $name: $(du -sh "$out/rootfs.tar" | cut -f1) in $out" >&2
  echo "$out"
}
