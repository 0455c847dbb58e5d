/**
 * Schema version 5: runs by quarter hour alone (no dimension), rolled up by the writer with the
 * hours (hourly-rollup.ts). A report grouped by time only, with no filter, reads it instead of
 * the hourly and daily rollups: every zone's day starts on a quarter hour (+05:30, +05:45), so
 * "30 days by day in Asia/Kolkata" is read from rollups alone, and a day is 96 rows, not one
 * per repo × model.
 */
export const SCHEMA_V5 = `
CREATE TABLE quarter_hour_usage (
  quarter_hour INTEGER NOT NULL PRIMARY KEY,
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
  duration_buckets BLOB
);
`;

/** Where the quarter hours' span is kept: always the hourly span (one writer step rolls both up); the report engine reads these keys. */
export const QUARTER_HOURS_FROM_KEY = "quarter_hours_from";
export const QUARTER_HOURS_TO_KEY = "quarter_hours_to";

/** The tables rolled up from closed hours, and the column each is dated by (epoch ms of its slot's start); one span covers them all. */
export const SLOT_TABLES = [
  ["hourly_model_usage", "hour"],
  ["hourly_usage", "hour"],
  ["quarter_hour_usage", "quarter_hour"],
] as const;
