/**
 * One producer of the scale-out example: an agent service on "another machine" that records
 * its runs (and their tool calls) through the http store into one `tally serve`.
 *
 * To show that retries are safe, it records everything twice, through two telemetry instances
 * sending at the same moment: every record has a fixed id, so the database stores it once.
 * `COPIES=1` sends each record once (to measure ingest without replays).
 *
 * Run by examples/scale-out/run.sh: bun examples/scale-out/producer.ts <server url> <producer number> <runs>
 */
import { createTelemetry, type Telemetry } from "../../src/index.ts";
import { openHttpStore } from "../../src/store/http/index.ts";

const [url, producerText = "0", runsText = "1000"] = process.argv.slice(2);
if (url === undefined) {
  console.error("usage: bun examples/scale-out/producer.ts <server url> <producer number> <runs>");
  process.exit(2);
}
const producer = Number(producerText);
const runs = Number(runsText);

const repos = ["acme/api", "acme/web", "acme/infra"];
const models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
const tools = ["read_file", "search", "run_tests"];
const startedAt = Date.now() - runs * 1000; // the runs happened over the last `runs` seconds

function telemetryFor(server: string): Telemetry {
  return createTelemetry({
    store: openHttpStore({ url: server }),
    // Warnings (a server restarting, a busy queue) are worth seeing; records stay queued meanwhile.
    logger: { error: (_o, m) => console.error(`producer ${producer}: ${m}`), warn: (_o, m) => console.error(`producer ${producer}: ${m}`), info: () => {} },
    batchSize: 100,
    flushIntervalMs: 50,
    retryBaseDelayMs: 50,
    maxRetryDelayMs: 1000,
  });
}

const copyCount = process.env.COPIES === "1" ? 1 : 2;
const copies = Array.from({ length: copyCount }, () => telemetryFor(url));
let inputTokens = 0;
let toolCalls = 0;
for (let i = 0; i < runs; i++) {
  const id = `scale-out-p${producer}-run-${i}`;
  const createdAt = startedAt + i * 1000;
  const run = {
    id,
    createdAt,
    repo: repos[(producer + i) % repos.length]!,
    eventType: "pull_request.opened",
    model: models[(producer * 7 + i) % models.length]!,
    conclusion: i % 17 === 0 ? "failure" : "success",
    inputTokens: 1500 + ((i * 37 + producer * 11) % 4000),
    outputTokens: 200 + ((i * 13) % 800),
    durationMs: 4000 + ((i * 97) % 20_000),
  };
  inputTokens += run.inputTokens;
  const calls = 1 + (i % 3);
  toolCalls += calls;
  for (const telemetry of copies) {
    telemetry.recordExecution(run);
    for (let k = 0; k < calls; k++) {
      telemetry.recordToolCall({ id: `${id}-call-${k}`, createdAt: createdAt + k, executionId: id, server: "workspace", toolName: tools[(i + k) % tools.length]!, outcome: (i + k) % 23 === 0 ? "tool_error" : "ok", durationMs: 20 + ((i * 7 + k) % 400) });
    }
  }
  // A service records as its runs finish; here, a pause for the writes every 500 runs keeps the
  // in-memory queue (10,000 records by default) from filling up.
  if (i % 500 === 499) await Promise.all(copies.map((telemetry) => telemetry.flush()));
}

// Waits until the server acknowledged everything (retrying while it is away), then closes.
await Promise.all(copies.map((telemetry) => telemetry.shutdown({ timeoutMs: 120_000 })));
const stats = copies.map((telemetry) => telemetry.stats());
const sum = (of: (s: (typeof stats)[number]) => number) => stats.reduce((n, s) => n + of(s), 0);
const lost = sum((s) => s.queued + Object.values(s.dropped).reduce((a, b) => a + b, 0));
console.log(
  `producer ${producer} → ${url}: ${runs} runs, ${toolCalls} tool calls, ${inputTokens} input tokens; ` +
    `sent ${sum((s) => s.written)} records, ${sum((s) => s.written - s.duplicates)} stored, ${sum((s) => s.duplicates)} recognised as copies` +
    (lost > 0 ? `, ${lost} NOT WRITTEN (${stats.find((s) => s.lastError !== null)?.lastError})` : ""),
);
process.exit(lost > 0 ? 1 : 0);
