/**
 * Schema version 2: per-UTC-hour sums at the coarsest grain (hour × repo × provider × model)
 * with their duration sketches, so a rolling window or a day of a zone whose midnight is
 * not UTC's is read from whole hours plus raw rows only for partial hours. Unlike the daily
 * rollups they are not kept per batch: the writer rolls up each *closed* hour at once, from
 * one read of that hour's raw rows (see hourly-rollup.ts), which costs the write path a
 * fraction of what an upsert per batch would (BENCHMARKS.md, "Hourly rollups").
 */
export const SCHEMA_V2 = `
CREATE TABLE hourly_model_usage (
  hour INTEGER NOT NULL,
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
  -- Durations as log-scale bucket counts, as in the daily rollups (core/duration-buckets.ts).
  duration_buckets BLOB,
  PRIMARY KEY (hour, repo, provider, model)
) WITHOUT ROWID;
`;

/** `tally_meta` keys: the hourly rollups hold every run of the hours in [from, to). */
export const HOURLY_FROM_KEY = "hourly_from";
export const HOURLY_TO_KEY = "hourly_to";
