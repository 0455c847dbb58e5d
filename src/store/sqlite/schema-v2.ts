/**
 * Schema version 2: the same sums per UTC hour (`hour`: epoch ms of the hour's start), so a
 * rolling window or a day of a zone whose midnight is not UTC's is answered from whole hours
 * plus raw rows for the partial edges. Kept beside the daily rollups, which stay the cheapest
 * answer for whole UTC days (a 30-day report reads ~30 daily rows per group, not ~720 hourly).
 */
const USAGE_SUMS = `
  runs INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  unpriced_runs INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  duration_buckets BLOB`;

export const SCHEMA_V2 = `
CREATE TABLE hourly_usage (
  hour INTEGER NOT NULL,
  repo TEXT NOT NULL,
  event_type TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  conclusion TEXT NOT NULL,${USAGE_SUMS},
  PRIMARY KEY (hour, repo, event_type, provider, model, conclusion)
) WITHOUT ROWID;

CREATE TABLE hourly_model_usage (
  hour INTEGER NOT NULL,
  repo TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  successes INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,${USAGE_SUMS},
  PRIMARY KEY (hour, repo, provider, model)
) WITHOUT ROWID;

CREATE TABLE hourly_tool_usage (
  hour INTEGER NOT NULL,
  server TEXT NOT NULL,
  tool_name TEXT NOT NULL,
  outcome TEXT NOT NULL,
  calls INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  input_bytes INTEGER NOT NULL DEFAULT 0,
  output_bytes INTEGER NOT NULL DEFAULT 0,
  duration_buckets BLOB,
  PRIMARY KEY (hour, server, tool_name, outcome)
) WITHOUT ROWID;
`;

/** Hourly rollup tables, dated by their `hour` column (epoch ms). */
export const HOURLY_ROLLUP_TABLES = ["hourly_usage", "hourly_model_usage", "hourly_tool_usage"] as const;

/**
 * The meta key of the instant from which the hourly rollups hold every row: rows purged
 * before schema 2 was applied never reached them, so hours before it are not used.
 */
export const HOURLY_FROM_KEY = "hourly_rollups_from";
