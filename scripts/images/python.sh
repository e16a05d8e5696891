#!/usr/bin/env bash
# A Python base image (no Docker Hub): Debian's python3.11 interpreter and standard
# library with only the libraries they load. The sample's Dockerfile starts FROM it.
# Prints the build context; build it with
#   docker build --tag hashiship/python:3.11 "$(bash scripts/images/python.sh)"
# shellcheck source=scripts/images/lib.sh
source "$(dirname "$0")/lib.sh"
image_begin python python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
add_programs usr/bin/python3.11
ln -s python3.11 "$root/usr/bin/python3"
add_files usr/lib/python3.11
# The C modules of the standard library load their own libraries (libssl, libffi, …).
add_libs "$root"/usr/lib/python3.11/lib-dynload/*.so
image_end 'ENTRYPOINT ["/usr/bin/python3"]'
