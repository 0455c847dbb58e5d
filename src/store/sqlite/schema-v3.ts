/**
 * Schema version 3: the hourly twin of daily_usage (hour × repo × event × provider × model ×
 * conclusion), so reports grouped or filtered by event type or conclusion read whole hours
 * too, instead of every raw run of a range's partial days. Rolled up by the writer from closed
 * hours with hourly_model_usage, from the same read of the hour's raw rows (hourly-rollup.ts).
 */
export const SCHEMA_V3 = `
CREATE TABLE hourly_usage (
  hour INTEGER NOT NULL,
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
  duration_buckets BLOB,
  PRIMARY KEY (hour, repo, event_type, provider, model, conclusion)
) WITHOUT ROWID;
`;
