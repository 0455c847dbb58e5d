/**
 * Schema version 1. CHECKs are written with = and OR, not IN (…): SQLite builds a temporary
 * index for an IN list on every inserted row, measured at 3–4 µs a row (bench/schema-check.ts).
 * Times are INTEGER epoch milliseconds (UTC): measured ~10 % smaller and
 * faster than ISO text; the `*_v` views show ISO text for people at the sqlite3 prompt.
 * Raw tables have time-ordered indexes only: a `repo` index cut write throughput 3–4× and
 * slowed "sum by repo" 8–9× (PERFORMANCE.md); dimension reports read the daily rollups.
 */
export const SCHEMA_V1 = `
CREATE TABLE executions (
  id TEXT NOT NULL PRIMARY KEY,
  created_at INTEGER NOT NULL,
  delivery_id TEXT,
  repo TEXT NOT NULL DEFAULT '',
  pr_number INTEGER,
  event_type TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT 'anthropic',
  model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cache_read_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_creation_tokens >= 0),
  duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  cost_usd REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  cost_source TEXT NOT NULL DEFAULT 'reported' CHECK (cost_source = 'reported' OR cost_source = 'computed' OR cost_source = 'unpriced'),
  conclusion TEXT NOT NULL,
  session_id TEXT,
  num_turns INTEGER,
  stop_reason TEXT,
  attributes TEXT
);
CREATE INDEX idx_executions_created_at ON executions (created_at);

CREATE TABLE rate_limit_events (
  id TEXT NOT NULL PRIMARY KEY,
  created_at INTEGER NOT NULL,
  delivery_id TEXT,
  event_type TEXT NOT NULL DEFAULT '',
  repo TEXT NOT NULL DEFAULT '',
  pr_number INTEGER,
  execution_id TEXT,
  resource TEXT NOT NULL,
  "limit" INTEGER,
  remaining INTEGER,
  reset_at INTEGER,
  retry_attempts INTEGER NOT NULL DEFAULT 0 CHECK (retry_attempts >= 0),
  skipped_queries INTEGER NOT NULL DEFAULT 0 CHECK (skipped_queries >= 0),
  degradation TEXT NOT NULL,
  attributes TEXT
);
CREATE INDEX idx_rate_limit_events_created_at ON rate_limit_events (created_at);
-- Exactly once per degraded run: a retried run keeps its delivery id and event type.
CREATE UNIQUE INDEX idx_rate_limit_events_delivery_event
  ON rate_limit_events (delivery_id, event_type) WHERE delivery_id IS NOT NULL;

CREATE TABLE tool_calls (
  id TEXT NOT NULL PRIMARY KEY,
  created_at INTEGER NOT NULL,
  session_id TEXT,
  execution_id TEXT,
  server TEXT NOT NULL DEFAULT '',
  tool_name TEXT NOT NULL,
  duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  outcome TEXT NOT NULL CHECK (outcome = 'ok' OR outcome = 'tool_error' OR outcome = 'protocol_error' OR outcome = 'cancelled'),
  error_type TEXT,
  input_bytes INTEGER,
  output_bytes INTEGER,
  attributes TEXT
);
CREATE INDEX idx_tool_calls_created_at ON tool_calls (created_at);

CREATE TABLE sessions (
  id TEXT NOT NULL PRIMARY KEY,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  source TEXT,
  client_name TEXT,
  client_version TEXT
);
CREATE INDEX idx_sessions_created_at ON sessions (created_at);

CREATE TABLE cache_events (
  id TEXT NOT NULL PRIMARY KEY,
  created_at INTEGER NOT NULL,
  cache TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome = 'hit' OR outcome = 'miss' OR outcome = 'error'),
  delivery_id TEXT,
  event_type TEXT NOT NULL DEFAULT '',
  repo TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_cache_events_created_at ON cache_events (created_at);

-- Sums per UTC day, kept in the same transaction as the raw rows and only for rows
-- actually inserted; purging raw rows leaves them alone.
CREATE TABLE daily_usage (
  day TEXT NOT NULL,
  repo TEXT NOT NULL,
  event_type TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  conclusion TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  unpriced_runs INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  -- Durations as log-scale bucket counts (src/core/duration-buckets.ts), so p50/p95 come
  -- from rollups too (±4.8 %); merged in the same transaction as the sums.
  duration_buckets BLOB,
  PRIMARY KEY (day, repo, event_type, provider, model, conclusion)
) WITHOUT ROWID;

-- The same sums at a coarser grain, for the common questions (by day, repo, model, provider):
-- ~15× fewer rows than daily_usage, so a 30-day report over millions of runs stays interactive.
CREATE TABLE daily_model_usage (
  day TEXT NOT NULL,
  repo TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  successes INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  unpriced_runs INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  duration_buckets BLOB,
  PRIMARY KEY (day, repo, provider, model)
) WITHOUT ROWID;

CREATE TABLE daily_tool_usage (
  day TEXT NOT NULL,
  server TEXT NOT NULL,
  tool_name TEXT NOT NULL,
  outcome TEXT NOT NULL,
  calls INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  input_bytes INTEGER NOT NULL DEFAULT 0,
  output_bytes INTEGER NOT NULL DEFAULT 0,
  duration_buckets BLOB,
  PRIMARY KEY (day, server, tool_name, outcome)
) WITHOUT ROWID;

-- Facts about the database itself. 'purged_before:executions' is the latest purge cut-off that
-- deleted execution rows: below it, ids can no longer prove a record was already counted, so
-- importers skip older records rather than count them twice in the rollups.
CREATE TABLE tally_meta (
  key TEXT NOT NULL PRIMARY KEY,
  value INTEGER
) WITHOUT ROWID;

-- How far each imported file was read, so a later import parses only what was appended.
CREATE TABLE import_files (
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  mtime_ms INTEGER NOT NULL DEFAULT 0,
  offset INTEGER NOT NULL DEFAULT 0,
  head_hash TEXT,
  lines INTEGER NOT NULL DEFAULT 0,
  malformed INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (source, path)
) WITHOUT ROWID;

CREATE VIEW executions_v AS
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at_iso, * FROM executions;
CREATE VIEW rate_limit_events_v AS
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at_iso, * FROM rate_limit_events;
CREATE VIEW tool_calls_v AS
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at_iso, * FROM tool_calls;
CREATE VIEW sessions_v AS
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', started_at / 1000.0, 'unixepoch') AS started_at_iso,
         strftime('%Y-%m-%dT%H:%M:%fZ', ended_at / 1000.0, 'unixepoch') AS ended_at_iso, * FROM sessions;
CREATE VIEW cache_events_v AS
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at_iso, * FROM cache_events;
`;

/** Raw tables and the column that dates each row, for purge and reports. */
export const RAW_TABLES = [
  { table: "executions", timeColumn: "created_at" },
  { table: "rate_limit_events", timeColumn: "created_at" },
  { table: "tool_calls", timeColumn: "created_at" },
  { table: "sessions", timeColumn: "created_at" },
  { table: "cache_events", timeColumn: "created_at" },
] as const;

