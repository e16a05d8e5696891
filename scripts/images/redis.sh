#!/usr/bin/env bash
# Redis as an image: redis-server from Debian's redis-tools with only its libraries
# (about 18 MB). Prints the build context; build it with
#   docker build --tag hashiship/redis:7.0 "$(bash scripts/images/redis.sh)"
# The container listens on 6379, or on $REDIS_PORT; no persistence (a cache).
# shellcheck source=scripts/images/lib.sh
source "$(dirname "$0")/lib.sh"
image_begin redis redis-tools libjemalloc2 liblzf1
add_programs usr/bin/redis-check-rdb
ln -s redis-check-rdb "$root/usr/bin/redis-server"
image_end 'USER 65534' 'ENTRYPOINT ["/usr/bin/redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]'
