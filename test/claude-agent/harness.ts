import { Database } from "bun:sqlite";
import { join } from "node:path";
import { createTelemetry, type Store, type Telemetry } from "../../src/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { tempDir } from "../support/temp-dir.ts";

/** A stand-in for `query()`: replays recorded messages, then ends or throws `error`. */
export async function* replay<M>(messages: readonly M[], error?: unknown): AsyncGenerator<M, void, undefined> {
  for (const message of messages) yield message;
  if (error !== undefined) throw error;
}

/** A replay that tells whether it was closed early (`return()`), as `Query` is by for-await. */
export function closableReplay<M>(messages: readonly M[]) {
  const state = { returned: false, pulled: 0 };
  async function* generate(): AsyncGenerator<M, void, undefined> {
    try {
      for (const message of messages) {
        state.pulled++;
        yield message;
      }
    } finally {
      if (state.pulled < messages.length) state.returned = true;
    }
  }
  return { query: generate(), state };
}

/** Everything the caller sees, in order. */
export async function drain<M>(stream: AsyncIterable<M>): Promise<M[]> {
  const seen: M[] = [];
  for await (const message of stream) seen.push(message);
  return seen;
}

type Row = Record<string, unknown>;

/** A telemetry on a real SQLite file, and the rows it wrote, read back with a raw connection. */
export function sqliteTelemetry(): { telemetry: Telemetry; rows(table: "executions" | "tool_calls"): Promise<Row[]>; path: string } {
  const path = join(tempDir(), "tally.db");
  const store = openSqliteStore({ path });
  const telemetry = createTelemetry({ store, flushOnExit: false });
  return {
    telemetry,
    path,
    async rows(table) {
      await telemetry.flush();
      const db = new Database(path, { readonly: true });
      try {
        const columns = table === "executions" ? EXECUTION_COLUMNS : TOOL_CALL_COLUMNS;
        return db.query(`SELECT ${columns} FROM ${table} ORDER BY rowid`).all() as Row[];
      } finally {
        db.close();
      }
    },
  };
}

/** Every stored column but created_at (the time of recording). */
const EXECUTION_COLUMNS =
  "id, delivery_id, repo, pr_number, event_type, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, duration_ms, cost_usd, cost_source, conclusion, session_id, num_turns, stop_reason, attributes";
const TOOL_CALL_COLUMNS = "id, session_id, execution_id, server, tool_name, duration_ms, outcome, error_type, input_bytes, output_bytes, attributes";

/** A store that throws on every call, and a telemetry on it. */
export function brokenTelemetry(): Telemetry {
  const fail = () => {
    throw new Error("disk I/O error");
  };
  const store: Store = { write: fail, purgeOlderThan: fail, checkpoint: fail, close: fail };
  return createTelemetry({ store, flushOnExit: false, batchSize: 1 });
}

/** A clock the test moves by hand. */
export function manualNow(start = 1_000) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}
