#!/usr/bin/env bash
# Scale-out in one command: three `tally serve` on one PostgreSQL, producers spread over them,
# then the usage report. Run from the project root:  bash examples/scale-out/run.sh
#
#   DATABASE_URL=postgres://…  use this PostgreSQL instead of a throwaway one (a fresh schema is
#                              made in it and dropped at the end; KEEP_SCHEMA=1 keeps it)
#   PRODUCERS=6 RUNS=2000      how many producers, and runs each records
#   COPIES=1                   send every record once instead of twice (ingest without replays)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v bun >/dev/null 2>&1 || PATH="$PWD/node_modules/.bin:$PATH"
command -v bun >/dev/null 2>&1 || { echo "bun not found (npm install, or install Bun)" >&2; exit 2; }

PRODUCERS=${PRODUCERS:-6}
RUNS=${RUNS:-2000}
SERVERS=3
work=$(mktemp -d /tmp/tally-scale-out.XXXXXX)
pg_dir=""
server_pids=()
producer_pids=()

cleanup() {
  status=$?
  trap - EXIT INT TERM
  for pid in "${producer_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # SIGTERM: each server answers what is in flight, commits, and exits.
  for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${DATABASE_URL:-}" ] && [ "${KEEP_SCHEMA:-0}" != "1" ] && [ -n "${TALLY_PG_SCHEMA:-}" ]; then
    bun -e 'import postgres from "postgres"; const sql = postgres(process.argv[1], { max: 1, onnotice: () => {} }); await sql.unsafe(`DROP SCHEMA IF EXISTS ${process.argv[2]} CASCADE`); await sql.end();' \
      "$DATABASE_URL" "$TALLY_PG_SCHEMA" || echo "could not drop schema $TALLY_PG_SCHEMA" >&2
  fi
  if [ -n "$pg_dir" ]; then bash scripts/test-postgres.sh stop "$pg_dir"; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${DATABASE_URL:-}" ]; then
  url=$DATABASE_URL
  echo "PostgreSQL: \$DATABASE_URL"
else
  out=$(bash scripts/test-postgres.sh)
  url=${out%% *}
  pg_dir=${out##* }
  echo "PostgreSQL: a throwaway server at $url"
fi
# Every server (and the report) uses this schema; a fresh one, so the numbers are this run's.
export TALLY_PG_SCHEMA="scale_out_$(date +%s)_$$"
echo "schema: $TALLY_PG_SCHEMA"

# Three servers on free ports; each prints {"url": …} once it listens.
urls=()
for n in $(seq 0 $((SERVERS - 1))); do
  bun src/cli/bin.ts serve --db "$url" --port 0 --json >"$work/server-$n.out" 2>"$work/server-$n.err" &
  server_pids+=($!)
done
for n in $(seq 0 $((SERVERS - 1))); do
  for _ in $(seq 1 300); do
    [ -s "$work/server-$n.out" ] && break
    if ! kill -0 "${server_pids[$n]}" 2>/dev/null; then cat "$work/server-$n.err" >&2; exit 1; fi
    sleep 0.1
  done
  line=$(head -1 "$work/server-$n.out")
  [ -n "$line" ] || { echo "server $n did not start" >&2; cat "$work/server-$n.err" >&2; exit 1; }
  server_url=$(printf '%s\n' "$line" | sed -E 's/.*"url":"([^"]+)".*/\1/')
  urls+=("$server_url")
  echo "tally serve #$n: $server_url"
done

# Producers, round-robin over the servers, all at once.
if [ "${COPIES:-2}" = "1" ]; then sent="every record sent once"; else sent="every record sent twice"; fi
echo "starting $PRODUCERS producers, $RUNS runs each ($sent)…"
started=$(date +%s.%N)
for p in $(seq 0 $((PRODUCERS - 1))); do
  bun examples/scale-out/producer.ts "${urls[$((p % SERVERS))]}" "$p" "$RUNS" &
  producer_pids+=($!)
done
failed=0
for pid in "${producer_pids[@]}"; do wait "$pid" || failed=1; done
producer_pids=()
[ "$failed" -eq 0 ] || { echo "a producer failed" >&2; exit 1; }
awk -v s="$started" -v e="$(date +%s.%N)" -v n=$((PRODUCERS * RUNS)) -v k="$SERVERS" \
  'BEGIN { printf "all acknowledged in %.1f s (producer start-up included): %.0f runs/s through %d servers\n", e - s, n / (e - s), k }'

echo
echo "expected: $((PRODUCERS * RUNS)) runs in total; the report (read from PostgreSQL):"
echo
bun src/cli/bin.ts report --db "$url" --by model
