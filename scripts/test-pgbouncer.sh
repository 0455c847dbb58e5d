#!/usr/bin/env bash
# Starts a throwaway PgBouncer (Debian's `pgbouncer` package) in transaction mode in front of
# the PostgreSQL at URL (as scripts/test-postgres.sh prints it), in a temporary directory;
# prints the pooler's URL (same user and database) and the directory on stdout.
# `scripts/test-pgbouncer.sh stop DIR` stops it and removes the directory.
# Each transaction goes to the next server connection in turn (server_round_robin), two of
# them kept open: a prepared statement made in one transaction is missing in the next.
set -euo pipefail
if [ "${1:-}" = "stop" ]; then
  [ -f "$2/pgbouncer.pid" ] && kill "$(cat "$2/pgbouncer.pid")" 2>/dev/null || true
  rm -rf "$2"
  exit 0
fi
command -v pgbouncer >/dev/null || { echo "no pgbouncer (apt-get install pgbouncer)" >&2; exit 2; }
url=${1:?usage: test-pgbouncer.sh postgres://user@host:port/database}
rest=${url#postgres://}
user=${rest%%@*}
hostport=${rest#*@}; hostport=${hostport%%/*}
database=${rest##*/}
dir=$(mktemp -d /tmp/tally-pgbouncer.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$dir/pgbouncer.ini" <<CONF
[databases]
* = host=${hostport%:*} port=${hostport##*:}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
server_round_robin = 1
default_pool_size = 2
min_pool_size = 2
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
CONF
echo "\"$user\" \"\"" > "$dir/users.txt"
# PgBouncer will not run as root; in CI it runs as the `postgres` user the server package makes.
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres "$dir"
  runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
else
  pgbouncer -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
echo "postgres://$user@127.0.0.1:$port/$database $dir"
