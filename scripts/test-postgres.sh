#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the test suite (Debian's `postgresql` package), on a Unix
# socket and 127.0.0.1 at a free port, in a temporary directory; prints its URL on stdout.
# `scripts/test-postgres.sh stop DIR` stops it and removes the directory.
# Running as root (CI), the server runs as the `postgres` user that the package creates.
set -euo pipefail
bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin_dir" ] || [ ! -x "$bin_dir/initdb" ]; then
  echo "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
  exit 2
fi
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# `pause DIR` stops the server (fast shutdown: connections are cut) and `resume DIR` starts it
# again on the same port, for tests of a database that goes away while producers write.
if [ "${1:-}" = "pause" ]; then
  as_server_user "$bin_dir/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
  exit 0
fi
if [ "${1:-}" = "resume" ]; then
  as_server_user "$bin_dir/pg_ctl" -D "$2/data" -l "$2/server.log" -w start >/dev/null
  exit 0
fi
if [ "${1:-}" = "stop" ]; then
  as_server_user "$bin_dir/pg_ctl" -D "$2/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi
dir=$(mktemp -d /tmp/tally-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_server_user "$bin_dir/initdb" -D "$dir/data" -U tally -A trust --no-sync >/dev/null
# Tests need speed, not durability: fsync off; enough connections for several servers and
# writers. In the config file, so that `resume` starts it the same way.
cat >> "$dir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$dir'
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
as_server_user "$bin_dir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
as_server_user "$bin_dir/createdb" -h 127.0.0.1 -p "$port" -U tally tally
echo "postgres://tally@127.0.0.1:$port/tally $dir"
