/**
 * Column lists of the raw tables and rollups, with their PostgreSQL types: the writer's
 * statements are generated from these (`unnest` of one array per column), so a column is
 * named in one place.
 */
export type PgType = "text" | "int8" | "float8";

/** A column value as the writer sends it (COPY fields, array elements): text, a number, or NULL. */
export type ColumnValue = string | number | null;

export interface TableColumns {
  table: string;
  columns: readonly (readonly [name: string, type: PgType])[];
}

export const EXECUTIONS: TableColumns = {
  table: "executions",
  columns: [
    ["id", "text"], ["created_at", "int8"], ["delivery_id", "text"], ["repo", "text"], ["pr_number", "int8"], ["event_type", "text"],
    ["provider", "text"], ["model", "text"], ["input_tokens", "int8"], ["output_tokens", "int8"], ["cache_read_tokens", "int8"],
    ["cache_creation_tokens", "int8"], ["duration_ms", "int8"], ["cost_usd", "float8"], ["cost_source", "text"], ["conclusion", "text"],
    ["session_id", "text"], ["num_turns", "int8"], ["stop_reason", "text"], ["attributes", "text"],
  ],
};

export const RATE_LIMIT_EVENTS: TableColumns = {
  table: "rate_limit_events",
  columns: [
    ["id", "text"], ["created_at", "int8"], ["delivery_id", "text"], ["event_type", "text"], ["repo", "text"], ["pr_number", "int8"],
    ["execution_id", "text"], ["resource", "text"], ['"limit"', "int8"], ["remaining", "int8"], ["reset_at", "int8"],
    ["retry_attempts", "int8"], ["skipped_queries", "int8"], ["degradation", "text"], ["attributes", "text"],
  ],
};

export const TOOL_CALLS: TableColumns = {
  table: "tool_calls",
  columns: [
    ["id", "text"], ["created_at", "int8"], ["session_id", "text"], ["execution_id", "text"], ["server", "text"], ["tool_name", "text"],
    ["duration_ms", "int8"], ["outcome", "text"], ["error_type", "text"], ["input_bytes", "int8"], ["output_bytes", "int8"], ["attributes", "text"],
  ],
};

export const SESSIONS: TableColumns = {
  table: "sessions",
  columns: [["id", "text"], ["created_at", "int8"], ["started_at", "int8"], ["source", "text"], ["client_name", "text"], ["client_version", "text"]],
};

export const CACHE_EVENTS: TableColumns = {
  table: "cache_events",
  columns: [["id", "text"], ["created_at", "int8"], ["cache", "text"], ["outcome", "text"], ["delivery_id", "text"], ["event_type", "text"], ["repo", "text"]],
};

/** A rollup: its key columns, then its sum columns, in the order `rollup-sums.ts` adds them. */
export interface RollupColumns {
  table: string;
  keys: readonly (readonly [string, PgType])[];
  sums: readonly (readonly [string, PgType])[];
  /** Whether it keeps a duration sketch (`duration_buckets`), merged by the upsert. @default true */
  sketch?: boolean;
}

const TOKEN_SUMS = [
  ["input_tokens", "int8"], ["output_tokens", "int8"], ["cache_read_tokens", "int8"], ["cache_creation_tokens", "int8"],
  ["cost_usd", "float8"], ["unpriced_runs", "int8"], ["duration_ms", "int8"],
] as const;
const USAGE_SUMS = [["runs", "int8"], ...TOKEN_SUMS] as const;
const MODEL_SUMS = [["runs", "int8"], ["successes", "int8"], ["failures", "int8"], ["errors", "int8"], ...TOKEN_SUMS] as const;
const USAGE_KEYS = [["repo", "text"], ["event_type", "text"], ["provider", "text"], ["model", "text"], ["conclusion", "text"]] as const;
const MODEL_KEYS = [["repo", "text"], ["provider", "text"], ["model", "text"]] as const;

export const DAILY_USAGE: RollupColumns = { table: "daily_usage", keys: [["day", "text"], ...USAGE_KEYS], sums: USAGE_SUMS };
export const DAILY_MODEL_USAGE: RollupColumns = { table: "daily_model_usage", keys: [["day", "text"], ...MODEL_KEYS], sums: MODEL_SUMS };
export const HOURLY_USAGE: RollupColumns = { table: "hourly_usage", keys: [["hour", "int8"], ...USAGE_KEYS], sums: USAGE_SUMS };
export const HOURLY_MODEL_USAGE: RollupColumns = { table: "hourly_model_usage", keys: [["hour", "int8"], ...MODEL_KEYS], sums: MODEL_SUMS };
/** Runs by quarter hour alone (schema 3). */
export const QUARTER_HOUR_USAGE: RollupColumns = { table: "quarter_hour_usage", keys: [["quarter_hour", "int8"]], sums: MODEL_SUMS };
export const DAILY_TOOL_USAGE: RollupColumns = {
  table: "daily_tool_usage",
  keys: [["day", "text"], ["server", "text"], ["tool_name", "text"], ["outcome", "text"]],
  sums: [["calls", "int8"], ["duration_ms", "int8"], ["input_bytes", "int8"], ["output_bytes", "int8"]],
};

/** Degraded runs per UTC day (schema 2); no durations, so no sketch. */
export const DAILY_DEGRADATIONS: RollupColumns = {
  table: "daily_degradations",
  keys: [["day", "text"], ["repo", "text"], ["resource", "text"], ["degradation", "text"]],
  sums: [["runs", "int8"], ["retry_attempts", "int8"], ["skipped_queries", "int8"]],
  sketch: false,
};
/** Cache lookups per UTC day (schema 2). */
export const DAILY_CACHE_USAGE: RollupColumns = {
  table: "daily_cache_usage",
  keys: [["day", "text"], ["cache", "text"], ["repo", "text"]],
  sums: [["lookups", "int8"], ["hits", "int8"], ["misses", "int8"], ["errors", "int8"]],
  sketch: false,
};
/**
 * Which sessions called which tool on which UTC day (schema 2): a set, not sums (distinct
 * sessions over several days cannot be added up), so its rows are only ever inserted.
 */
export const DAILY_TOOL_SESSIONS: TableColumns = {
  table: "daily_tool_sessions",
  columns: [["day", "text"], ["server", "text"], ["tool_name", "text"], ["session_id", "text"]],
};

/** `unnest($1::text[], $2::int8[], …) AS u(a, b, …)` for `columns`, placeholders from `first`. */
export function unnestFrom(columns: readonly (readonly [string, PgType])[], first: number, alias = "u"): string {
  const arrays = columns.map(([, type], i) => `$${first + i}::${type}[]`);
  return `unnest(${arrays.join(", ")}) AS ${alias}(${columns.map(([name]) => name).join(", ")})`;
}

/**
 * `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING id`. On a partitioned table
 * the key is (id, created_at), so the id is first claimed in `<table>_ids` (unpartitioned,
 * keyed by id alone) in the same statement, and only claimed rows are inserted: a writer
 * claiming an id another transaction is claiming waits for it, then finds it taken. So an id
 * is stored once even when two servers stamp the same record with different times at once.
 * The first two columns of every raw table are id and created_at.
 */
export function insertRowsSql({ table, columns }: TableColumns, partitioned: boolean): string {
  const names = columns.map(([name]) => name).join(", ");
  const insert = `INSERT INTO ${table} (${names}) SELECT ${names} FROM ${unnestFrom(columns, 1)}`;
  if (!partitioned) return `${insert} ON CONFLICT DO NOTHING RETURNING id`;
  // The claim decides: a claimed id has no row yet, so the row goes in without ON CONFLICT
  // (a conflict would be a broken invariant, and fails the statement rather than hide it).
  return `WITH claimed AS (
      INSERT INTO ${table}_ids (id, created_at) SELECT id, created_at FROM unnest($1::text[], $2::int8[]) AS c(id, created_at)
      ON CONFLICT DO NOTHING RETURNING id),
    inserted AS (${insert} WHERE u.id IN (SELECT id FROM claimed))
    SELECT id FROM claimed`;
}

/**
 * One CTE that upserts a rollup's groups from arrays (placeholders from `first`): sums add up
 * and sketches merge inside the statement, under the row lock the upsert takes.
 */
export function upsertRollupCte(name: string, { table, keys, sums, sketch = true }: RollupColumns, first: number): string {
  // A group's sketch is bound as the text of an int4[] literal and cast here: a 2-D array param could not be ragged.
  const columns = sketch ? [...keys, ...sums, ["duration_buckets", "text"] as const] : [...keys, ...sums];
  const names = columns.map(([n]) => n).join(", ");
  const select = [...keys, ...sums].map(([n]) => n);
  if (sketch) select.push("duration_buckets::int4[]");
  const updates = sums.map(([n]) => `${n} = ${table}.${n} + excluded.${n}`);
  if (sketch) updates.push(`duration_buckets = tally_sketch_merge(${table}.duration_buckets, excluded.duration_buckets)`);
  return `${name} AS (INSERT INTO ${table} (${names})
    SELECT ${select.join(", ")} FROM ${unnestFrom(columns, first)}
    ON CONFLICT (${keys.map(([n]) => n).join(", ")}) DO UPDATE SET ${updates.join(", ")} RETURNING 1)`;
}

/**
 * One CTE that inserts rows of a set table (every column is key) from arrays, placeholders
 * from `first`; rows held already are left as they are.
 */
export function insertSetCte(name: string, { table, columns }: TableColumns, first: number): string {
  const names = columns.map(([n]) => n).join(", ");
  return `${name} AS (INSERT INTO ${table} (${names}) SELECT ${names} FROM ${unnestFrom(columns, first)} ON CONFLICT DO NOTHING RETURNING 1)`;
}
