/**
 * Schema version 4: daily rollups for what the degradations and tools reports read raw until
 * now — degraded runs, cache lookups, and which sessions called which tool — so their long
 * ranges cost days, not rows (the dashboard's 90-day degradations view read ~1M raw rows).
 * Written with the raw rows in the same transaction, for rows actually inserted, as the other
 * daily rollups are; built from the raw rows still held by the migration.
 */
export const SCHEMA_V4 = `
CREATE TABLE daily_degradations (
  day TEXT NOT NULL,
  repo TEXT NOT NULL,
  resource TEXT NOT NULL,
  degradation TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  retry_attempts INTEGER NOT NULL DEFAULT 0,
  skipped_queries INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, repo, resource, degradation)
) WITHOUT ROWID;

CREATE TABLE daily_cache_usage (
  day TEXT NOT NULL,
  cache TEXT NOT NULL,
  repo TEXT NOT NULL,
  lookups INTEGER NOT NULL DEFAULT 0,
  hits INTEGER NOT NULL DEFAULT 0,
  misses INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, cache, repo)
) WITHOUT ROWID;

-- Distinct sessions cannot be summed across days: the set of (day, tool, session) is kept.
CREATE TABLE daily_tool_sessions (
  day TEXT NOT NULL,
  server TEXT NOT NULL,
  tool_name TEXT NOT NULL,
  session_id TEXT NOT NULL,
  PRIMARY KEY (day, server, tool_name, session_id)
) WITHOUT ROWID;
`;

/** A row's UTC day in SQL, as utcDay() computes it. */
const DAY_OF = "strftime('%Y-%m-%d', created_at / 1000.0, 'unixepoch')";

/** Builds the schema-4 rollups from the raw rows a database holds (additive: nothing else changes). */
export const BACKFILL_V4 = `
INSERT INTO daily_degradations (day, repo, resource, degradation, runs, retry_attempts, skipped_queries)
  SELECT ${DAY_OF}, repo, resource, degradation, count(*), sum(retry_attempts), sum(skipped_queries)
  FROM rate_limit_events GROUP BY 1, 2, 3, 4;
INSERT INTO daily_cache_usage (day, cache, repo, lookups, hits, misses, errors)
  SELECT ${DAY_OF}, cache, repo, count(*), sum(outcome = 'hit'), sum(outcome = 'miss'), sum(outcome = 'error')
  FROM cache_events GROUP BY 1, 2, 3;
INSERT INTO daily_tool_sessions (day, server, tool_name, session_id)
  SELECT DISTINCT ${DAY_OF}, server, tool_name, session_id FROM tool_calls WHERE session_id IS NOT NULL;
`;

/** The daily rollup tables of every schema version so far, dated by their `day` column. */
export const ROLLUP_TABLES = ["daily_usage", "daily_model_usage", "daily_tool_usage", "daily_degradations", "daily_cache_usage", "daily_tool_sessions"] as const;
