#!/usr/bin/env bash
# The whole test suite: build the package, run the Bun suite, then the Node suite against
# the built package (better-sqlite3), and print one combined "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
log_dir=$(mktemp -d)

npm run --silent build || { echo "build failed"; exit 1; }

# A throwaway PostgreSQL for the PostgreSQL suites, unless one is given; without the server
# binaries (Debian's postgresql) those suites are skipped and say so.
if [ -z "${TALLY_TEST_POSTGRES_URL:-}" ]; then
  if pg=$(bash scripts/test-postgres.sh 2>"$log_dir/postgres.log"); then
    export TALLY_TEST_POSTGRES_URL="${pg%% *}"
    pg_dir="${pg##* }"
    trap 'bash scripts/test-postgres.sh stop "$pg_dir"' EXIT
    echo "PostgreSQL for the tests: $TALLY_TEST_POSTGRES_URL"
  else
    echo "no PostgreSQL for the tests ($(cat "$log_dir/postgres.log")); its suites are skipped"
  fi
fi
tsc -p tsconfig.node-tests.json || { echo "building the Node test suite failed"; exit 1; }

bun test 2>&1 | tee "$log_dir/bun.log"
bun_status=${PIPESTATUS[0]}

node --test --test-concurrency=1 test/node/*.node.mjs 2>&1 | tee "$log_dir/node.log"
node_status=${PIPESTATUS[0]}

bun_pass=$(grep -Eo '^ *[0-9]+ pass' "$log_dir/bun.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
bun_fail=$(grep -Eo '^ *[0-9]+ fail' "$log_dir/bun.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
node_pass=$(grep -Eo '^# pass [0-9]+' "$log_dir/node.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
node_fail=$(grep -Eo '^# fail [0-9]+' "$log_dir/node.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
echo
echo "bun: $bun_pass passed, $bun_fail failed (exit $bun_status); node: $node_pass passed, $node_fail failed (exit $node_status)"
echo "$((bun_pass + node_pass)) passed, $((bun_fail + node_fail)) failed"
[ "$bun_status" -eq 0 ] && [ "$node_status" -eq 0 ]
