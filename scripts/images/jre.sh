#!/usr/bin/env bash
# A Java runtime image (no Docker Hub): `jlink` of this machine's Debian JDK
# (default-jdk-headless) with the modules a small service needs, and the libraries
# it loads. Prints the build context; build it with
#   docker build --tag hashiship/jre:17 "$(bash scripts/images/jre.sh)"
# and put a jar on top: `FROM hashiship/jre:17`, `COPY app.jar /app.jar`,
# `CMD ["-jar", "/app.jar"]`.
# shellcheck source=scripts/images/lib.sh
source "$(dirname "$0")/lib.sh"
command -v jlink >/dev/null || { echo "image jre: jlink is missing: apt-get install default-jdk-headless" >&2; exit 1; }
# The JDK's package is the key's package: a new JDK makes a new image.
image_download=0 image_begin jre "$(dpkg-query -S "$(readlink -f "$(command -v jlink)")" | cut -d: -f1)"
jlink --add-modules java.base,jdk.httpserver,java.logging --strip-debug --no-man-pages --no-header-files \
  --compress=2 --output "$root/opt/java"
extra_libs="$root/opt/java/lib:$root/opt/java/lib/server" add_libs "$root/opt/java/bin/java" "$root"/opt/java/lib/*.so "$root"/opt/java/lib/server/*.so
# java finds libjli.so through its RPATH ($ORIGIN/../lib); the path is set as well, so
# that it runs where /proc is not mounted (a chroot of the rootfs).
image_end 'ENV LD_LIBRARY_PATH=/opt/java/lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu' 'ENTRYPOINT ["/opt/java/bin/java"]'
