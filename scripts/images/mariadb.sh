#!/usr/bin/env bash
# MariaDB as an image: Debian's mariadbd, mariadb-install-db, the mariadb client and
# their libraries, with Debian's static busybox as /bin/sh for the entry script.
# Prints the build context; build it with
#   docker build --tag hashiship/mariadb:10.11 "$(bash scripts/images/mariadb.sh)"
# The container keeps its data in /var/lib/mysql (mount a volume there), creates
# the system tables on first start, listens on 127.0.0.1:$MARIADB_PORT (3306) and
# lets `$MARIADB_USER`@127.0.0.1 (default `app`, no password: loopback only) in;
# `$MARIADB_DATABASE` is created and `$MARIADB_ROOT_PASSWORD` set for root when given.
# shellcheck source=scripts/images/lib.sh
source "$(dirname "$0")/lib.sh"
image_begin mariadb mariadb-server-core mariadb-client-core libmariadb3 libaio1 libnuma1 liburing2 libedit2 busybox-static
add_busybox
add_programs usr/sbin/mariadbd usr/bin/my_print_defaults usr/bin/resolveip usr/bin/mariadb
add_files usr/bin/mariadb-install-db usr/share/mysql
mkdir -p "$root/var/lib/mysql" "$root/run/mysqld" "$root/usr/local/bin"
cat >"$root/usr/local/bin/entry" <<'SH'
#!/bin/sh
# First start on an empty data folder: create the system tables. Then run mariadbd.
set -e
data=/var/lib/mysql
port="${MARIADB_PORT:-3306}"
user="${MARIADB_USER:-app}"
if [ ! -d "$data/mysql" ]; then
  echo "entry: creating the system tables in $data"
  mariadb-install-db --no-defaults --user=root --datadir="$data" --skip-test-db \
    --skip-name-resolve --force --auth-root-authentication-method=normal >/tmp/install-db.log 2>&1 ||
    { cat /tmp/install-db.log; exit 1; }
fi
{
  printf "CREATE USER IF NOT EXISTS '%s'@'127.0.0.1';\nGRANT ALL ON *.* TO '%s'@'127.0.0.1';\n" "$user" "$user"
  # Optional, as the official images read them: a database to create, root's password.
  [ -z "${MARIADB_DATABASE:-}" ] || printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n' "$MARIADB_DATABASE"
  [ -z "${MARIADB_ROOT_PASSWORD:-}" ] ||
    printf "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\n" "$(printf %s "$MARIADB_ROOT_PASSWORD" | sed "s/[\\\\']/\\\\&/g")"
} >/tmp/init.sql
chmod 600 /tmp/init.sql
exec mariadbd --no-defaults --user=root --datadir="$data" --bind-address=127.0.0.1 --port="$port" \
  --socket=/run/mysqld/mysqld.sock --skip-name-resolve --init-file=/tmp/init.sql \
  --innodb-buffer-pool-size=32M --performance-schema=OFF "$@"
SH
chmod 755 "$root/usr/local/bin/entry"
image_end 'ENTRYPOINT ["/usr/local/bin/entry"]'
