/**
 * The PostgreSQL schema, as numbered migrations applied in order under an advisory lock
 * (migrate.ts). Additive only: a later version adds, never drops.
 *
 * Differences from SQLite's, and why:
 * - `executions`, `tool_calls` and `cache_events` (the high-volume kinds) are partitioned by
 *   month on `created_at`, so retention drops whole partitions instead of deleting rows.
 *   Their primary key is therefore `(id, created_at)`: a unique index on a partitioned table
 *   must contain the partition key. One row per id is kept by a claim table per partitioned
 *   table (`executions_ids`, …: id → created_at, unpartitioned), into which the writer inserts
 *   the ids in the same statement as the rows (columns.ts, `insertRowsSql`); retention deletes
 *   claims with their rows.
 * - `rate_limit_events` and `sessions` are few (one per degraded run, one per session) and
 *   keep global rules, one row per id and one per (delivery_id, event_type): unpartitioned,
 *   purged by chunked DELETE.
 * - Duration sketches are `int4[]` pairs (bucket, count, bucket, count, …) so the database
 *   itself merges them inside the upsert (`tally_sketch_merge`): two servers writing the same
 *   rollup row never lose an update.
 */

/** Tables partitioned by month on created_at. */
export const PARTITIONED_TABLES = ["executions", "tool_calls", "cache_events"] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** Raw tables kept whole, purged by DELETE. */
const PLAIN_RAW_TABLES = ["rate_limit_events", "sessions"] as const;

/** The partitioned tables, for membership checks. */
export const PARTITIONED: ReadonlySet<string> = new Set(PARTITIONED_TABLES);

/** Every raw table, partitioned or not. */
export const RAW_TABLES = [...PARTITIONED_TABLES, ...PLAIN_RAW_TABLES] as const;

const SKETCH = "int4[]";

const V1 = `
CREATE TABLE tally_meta (
  key text PRIMARY KEY,
  value text
);

CREATE TABLE executions (
  id text NOT NULL,
  created_at bigint NOT NULL,
  delivery_id text,
  repo text NOT NULL DEFAULT '',
  pr_number bigint,
  event_type text NOT NULL DEFAULT '',
  provider text NOT NULL DEFAULT 'anthropic',
  model text NOT NULL,
  input_tokens bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cache_read_tokens bigint NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
  cache_creation_tokens bigint NOT NULL DEFAULT 0 CHECK (cache_creation_tokens >= 0),
  duration_ms bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  cost_usd double precision NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  cost_source text NOT NULL DEFAULT 'reported' CHECK (cost_source IN ('reported', 'computed', 'unpriced')),
  conclusion text NOT NULL,
  session_id text,
  num_turns bigint,
  stop_reason text,
  attributes text,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX executions_created_at ON executions (created_at);
CREATE TABLE executions_ids (id text PRIMARY KEY, created_at bigint NOT NULL);

CREATE TABLE tool_calls (
  id text NOT NULL,
  created_at bigint NOT NULL,
  session_id text,
  execution_id text,
  server text NOT NULL DEFAULT '',
  tool_name text NOT NULL,
  duration_ms bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  outcome text NOT NULL CHECK (outcome IN ('ok', 'tool_error', 'protocol_error', 'cancelled')),
  error_type text,
  input_bytes bigint,
  output_bytes bigint,
  attributes text,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX tool_calls_created_at ON tool_calls (created_at);
CREATE TABLE tool_calls_ids (id text PRIMARY KEY, created_at bigint NOT NULL);

CREATE TABLE cache_events (
  id text NOT NULL,
  created_at bigint NOT NULL,
  cache text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('hit', 'miss', 'error')),
  delivery_id text,
  event_type text NOT NULL DEFAULT '',
  repo text NOT NULL DEFAULT '',
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX cache_events_created_at ON cache_events (created_at);
CREATE TABLE cache_events_ids (id text PRIMARY KEY, created_at bigint NOT NULL);

CREATE TABLE rate_limit_events (
  id text PRIMARY KEY,
  created_at bigint NOT NULL,
  delivery_id text,
  event_type text NOT NULL DEFAULT '',
  repo text NOT NULL DEFAULT '',
  pr_number bigint,
  execution_id text,
  resource text NOT NULL,
  "limit" bigint,
  remaining bigint,
  reset_at bigint,
  retry_attempts bigint NOT NULL DEFAULT 0 CHECK (retry_attempts >= 0),
  skipped_queries bigint NOT NULL DEFAULT 0 CHECK (skipped_queries >= 0),
  degradation text NOT NULL,
  attributes text
);
CREATE INDEX rate_limit_events_created_at ON rate_limit_events (created_at);
-- Exactly once per degraded run: a retried run keeps its delivery id and event type.
CREATE UNIQUE INDEX rate_limit_events_delivery_event ON rate_limit_events (delivery_id, event_type) WHERE delivery_id IS NOT NULL;

CREATE TABLE sessions (
  id text PRIMARY KEY,
  created_at bigint NOT NULL,
  started_at bigint NOT NULL,
  ended_at bigint,
  source text,
  client_name text,
  client_version text
);
CREATE INDEX sessions_created_at ON sessions (created_at);

CREATE TABLE daily_usage (
  day text NOT NULL, repo text NOT NULL, event_type text NOT NULL, provider text NOT NULL, model text NOT NULL, conclusion text NOT NULL,
  runs bigint NOT NULL DEFAULT 0, input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0,
  cache_read_tokens bigint NOT NULL DEFAULT 0, cache_creation_tokens bigint NOT NULL DEFAULT 0, cost_usd double precision NOT NULL DEFAULT 0,
  unpriced_runs bigint NOT NULL DEFAULT 0, duration_ms bigint NOT NULL DEFAULT 0, duration_buckets ${SKETCH},
  PRIMARY KEY (day, repo, event_type, provider, model, conclusion)
);
CREATE TABLE daily_model_usage (
  day text NOT NULL, repo text NOT NULL, provider text NOT NULL, model text NOT NULL,
  runs bigint NOT NULL DEFAULT 0, successes bigint NOT NULL DEFAULT 0, failures bigint NOT NULL DEFAULT 0, errors bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0, cache_read_tokens bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0, cost_usd double precision NOT NULL DEFAULT 0, unpriced_runs bigint NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0, duration_buckets ${SKETCH},
  PRIMARY KEY (day, repo, provider, model)
);
CREATE TABLE daily_tool_usage (
  day text NOT NULL, server text NOT NULL, tool_name text NOT NULL, outcome text NOT NULL,
  calls bigint NOT NULL DEFAULT 0, duration_ms bigint NOT NULL DEFAULT 0, input_bytes bigint NOT NULL DEFAULT 0,
  output_bytes bigint NOT NULL DEFAULT 0, duration_buckets ${SKETCH},
  PRIMARY KEY (day, server, tool_name, outcome)
);
-- Hourly twins of the usage rollups. Unlike SQLite's (rolled up from closed hours by the one
-- writer), these are upserted with every batch, like the daily ones: with many writers there
-- is no single one to roll hours up, and the upsert merges in the statement anyway.
CREATE TABLE hourly_usage (
  hour bigint NOT NULL, repo text NOT NULL, event_type text NOT NULL, provider text NOT NULL, model text NOT NULL, conclusion text NOT NULL,
  runs bigint NOT NULL DEFAULT 0, input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0,
  cache_read_tokens bigint NOT NULL DEFAULT 0, cache_creation_tokens bigint NOT NULL DEFAULT 0, cost_usd double precision NOT NULL DEFAULT 0,
  unpriced_runs bigint NOT NULL DEFAULT 0, duration_ms bigint NOT NULL DEFAULT 0, duration_buckets ${SKETCH},
  PRIMARY KEY (hour, repo, event_type, provider, model, conclusion)
);
CREATE TABLE hourly_model_usage (
  hour bigint NOT NULL, repo text NOT NULL, provider text NOT NULL, model text NOT NULL,
  runs bigint NOT NULL DEFAULT 0, successes bigint NOT NULL DEFAULT 0, failures bigint NOT NULL DEFAULT 0, errors bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0, cache_read_tokens bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0, cost_usd double precision NOT NULL DEFAULT 0, unpriced_runs bigint NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0, duration_buckets ${SKETCH},
  PRIMARY KEY (hour, repo, provider, model)
);

CREATE TABLE import_files (
  source text NOT NULL, path text NOT NULL, size bigint NOT NULL DEFAULT 0, mtime_ms bigint NOT NULL DEFAULT 0,
  "offset" bigint NOT NULL DEFAULT 0, head_hash text, lines bigint NOT NULL DEFAULT 0, malformed bigint NOT NULL DEFAULT 0,
  updated_at bigint NOT NULL,
  PRIMARY KEY (source, path)
);

-- Merges two sketches (bucket, count pairs, in bucket order): counts of a bucket add up,
-- empty buckets go. Called by every rollup upsert, which holds the row's lock: merges never
-- race. A merge of the two sorted lists in PL/pgSQL: a SQL function with an aggregate cannot
-- be inlined and cost ~120 µs a group (BENCHMARKS.md, "PostgreSQL").
CREATE FUNCTION tally_sketch_merge(a int4[], b int4[]) RETURNS int4[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  merged int4[] := '{}';
  i int := 1;
  j int := 1;
  na int := coalesce(array_length(a, 1), 0);
  nb int := coalesce(array_length(b, 1), 0);
  n int4;
BEGIN
  WHILE i < na OR j < nb LOOP
    IF j >= nb OR (i < na AND a[i] < b[j]) THEN
      IF a[i + 1] > 0 THEN merged := merged || ARRAY[a[i], a[i + 1]]; END IF;
      i := i + 2;
    ELSIF i >= na OR b[j] < a[i] THEN
      IF b[j + 1] > 0 THEN merged := merged || ARRAY[b[j], b[j + 1]]; END IF;
      j := j + 2;
    ELSE
      n := a[i + 1] + b[j + 1];
      IF n > 0 THEN merged := merged || ARRAY[a[i], n]; END IF;
      i := i + 2;
      j := j + 2;
    END IF;
  END LOOP;
  RETURN merged;
END
$$;

-- The hourly rollups hold every run from the start (they are kept with every batch).
INSERT INTO tally_meta (key, value) VALUES ('hourly_from', '0'), ('hourly_to', '${Number.MAX_SAFE_INTEGER}');
`;

/**
 * The UTC day (`YYYY-MM-DD`) of an epoch-ms column in SQL, as utcDay() computes it: the day
 * number by floor division in integers (exact, whatever the session's time zone; no float near
 * midnight; before 1970 too), formatted by to_char (DateStyle does not change it).
 */
export const utcDaySql = (column: string) =>
  `to_char(DATE '1970-01-01' + ((${column} - ((${column} % 86400000) + 86400000) % 86400000) / 86400000)::int, 'YYYY-MM-DD')`;

const DAY_OF = utcDaySql("created_at");

/**
 * Version 2: daily rollups of degraded runs, cache lookups and the sessions that called each
 * tool (SQLite's schema 4), so those reports read days, not raw rows. Written with the raw rows
 * by every batch (write.ts); built here from the raw rows still held.
 */
const V2 = `
CREATE TABLE daily_degradations (
  day text NOT NULL, repo text NOT NULL, resource text NOT NULL, degradation text NOT NULL,
  runs bigint NOT NULL DEFAULT 0, retry_attempts bigint NOT NULL DEFAULT 0, skipped_queries bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, repo, resource, degradation)
);
CREATE TABLE daily_cache_usage (
  day text NOT NULL, cache text NOT NULL, repo text NOT NULL,
  lookups bigint NOT NULL DEFAULT 0, hits bigint NOT NULL DEFAULT 0, misses bigint NOT NULL DEFAULT 0, errors bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, cache, repo)
);
-- Distinct sessions cannot be summed across days: the set of (day, tool, session) is kept.
CREATE TABLE daily_tool_sessions (
  day text NOT NULL, server text NOT NULL, tool_name text NOT NULL, session_id text NOT NULL,
  PRIMARY KEY (day, server, tool_name, session_id)
);

INSERT INTO daily_degradations (day, repo, resource, degradation, runs, retry_attempts, skipped_queries)
  SELECT ${DAY_OF}, repo, resource, degradation, count(*), sum(retry_attempts), sum(skipped_queries)
  FROM rate_limit_events GROUP BY 1, 2, 3, 4;
INSERT INTO daily_cache_usage (day, cache, repo, lookups, hits, misses, errors)
  SELECT ${DAY_OF}, cache, repo, count(*), count(*) FILTER (WHERE outcome = 'hit'), count(*) FILTER (WHERE outcome = 'miss'),
    count(*) FILTER (WHERE outcome = 'error')
  FROM cache_events GROUP BY 1, 2, 3;
INSERT INTO daily_tool_sessions (day, server, tool_name, session_id)
  SELECT DISTINCT ${DAY_OF}, server, tool_name, session_id FROM tool_calls WHERE session_id IS NOT NULL;
`;

/** A run's duration bucket in SQL, as durationBucket() computes it (0 under 1 ms; bucket i holds (1.1^(i-1), 1.1^i]). */
const BUCKET_OF = "CASE WHEN duration_ms >= 1 THEN greatest(1, ceil(ln(duration_ms::float8) / ln(1.1::float8) - 1e-9))::int4 ELSE 0 END";
/** The start of a run's quarter hour, by floor division (before 1970 too). */
const QUARTER_HOUR_OF = "created_at - ((created_at % 900000) + 900000) % 900000";

/**
 * Version 3: runs by quarter hour alone (SQLite's schema 5), so reports by time read rollups in
 * every zone (a +05:30 or +05:45 day starts on a quarter hour). Upserted with every batch like
 * the hourly rollups; built here from the raw rows still held, so its span starts where they do
 * (the hourly rollups may reach further back, past a purge of raw rows).
 */
const V3 = `
CREATE TABLE quarter_hour_usage (
  quarter_hour bigint NOT NULL PRIMARY KEY,
  runs bigint NOT NULL DEFAULT 0, successes bigint NOT NULL DEFAULT 0, failures bigint NOT NULL DEFAULT 0, errors bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0, output_tokens bigint NOT NULL DEFAULT 0, cache_read_tokens bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0, cost_usd double precision NOT NULL DEFAULT 0, unpriced_runs bigint NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0, duration_buckets ${SKETCH}
);

WITH runs AS (
  SELECT ${QUARTER_HOUR_OF} AS quarter_hour, conclusion, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
    cost_usd, cost_source, duration_ms, ${BUCKET_OF} AS bucket
  FROM executions
), buckets AS (
  SELECT quarter_hour, bucket, count(*)::int4 AS n FROM runs GROUP BY 1, 2
), sketches AS (
  SELECT quarter_hour, array_agg(v ORDER BY bucket, o) AS sketch
  FROM buckets, LATERAL (VALUES (0, bucket), (1, n)) AS pair(o, v) GROUP BY 1
)
INSERT INTO quarter_hour_usage (quarter_hour, runs, successes, failures, errors, input_tokens, output_tokens, cache_read_tokens,
  cache_creation_tokens, cost_usd, unpriced_runs, duration_ms, duration_buckets)
SELECT r.quarter_hour, count(*), count(*) FILTER (WHERE conclusion = 'success'), count(*) FILTER (WHERE conclusion = 'failure'),
  count(*) FILTER (WHERE conclusion = 'error'), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_creation_tokens),
  sum(cost_usd), count(*) FILTER (WHERE cost_source = 'unpriced'), sum(duration_ms), s.sketch
FROM runs r JOIN sketches s USING (quarter_hour) GROUP BY r.quarter_hour, s.sketch;

INSERT INTO tally_meta (key, value) SELECT 'quarter_hours_from', greatest(
  coalesce((SELECT (value::bigint + 3599999) / 3600000 * 3600000 FROM tally_meta WHERE key = 'purged_before:executions'), 0),
  coalesce((SELECT value::bigint FROM tally_meta WHERE key = 'hourly_from'), 0))::text;
INSERT INTO tally_meta (key, value) VALUES ('quarter_hours_to', '${Number.MAX_SAFE_INTEGER}');
`;

/** Migrations by version; the database keeps its version in tally_meta ('schema_version'). */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [{ version: 1, sql: V1 }, { version: 2, sql: V2 }, { version: 3, sql: V3 }];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
