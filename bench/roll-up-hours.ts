/**
 * Rolls up every closed hour of a benchmark file whose hourly span was restarted by a migration
 * (schema 2 and 3 start it empty; the writer then rolls up 4 hours per write): writes one stored
 * run again and again — a duplicate, so nothing changes but the span — until the hours reach the
 * data's end. Run: `bun bench/roll-up-hours.ts /tmp/tally-bench-dashboard-10000000.db` (~100 s for 2,400 hours).
 */
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { Database } from "bun:sqlite";
const path = process.argv[2]!;
const first = new Database(path, { readonly: true }).prepare("select * from executions order by rowid limit 1").get() as Record<string, unknown>;
const store = openSqliteStore({ path, retentionDays: 0 });
const row = { id: String(first.id), createdAt: Number(first.created_at), deliveryId: first.delivery_id as string | null, repo: String(first.repo), prNumber: first.pr_number as number | null, eventType: String(first.event_type), provider: String(first.provider), model: String(first.model), inputTokens: Number(first.input_tokens), outputTokens: Number(first.output_tokens), cacheReadTokens: Number(first.cache_read_tokens), cacheCreationTokens: Number(first.cache_creation_tokens), durationMs: Number(first.duration_ms), costUsd: Number(first.cost_usd), costSource: first.cost_source as "reported", conclusion: String(first.conclusion), sessionId: null, numTurns: first.num_turns as number | null, stopReason: first.stop_reason as string | null, attributes: null };
const meta = new Database(path, { readonly: true });
const newest = Number((meta.prepare("SELECT max(created_at) AS t FROM executions").get() as { t: number }).t);
const lastHour = Math.floor(newest / 3_600_000) * 3_600_000;
for (let i = 0; i < 5000; i++) {
  const r = store.write([{ kind: "execution", row } as never]);
  if (!r.ok) throw r.error;
  if (i % 100 === 0) {
    const to = Number((meta.prepare("select value from tally_meta where key='hourly_to'").get() as { value: number }).value);
    process.stderr.write(`\r${new Date(to).toISOString()}`);
    if (to >= lastHour) break;
  }
}
store.checkpoint();
store.close();
console.log("\ndone");
