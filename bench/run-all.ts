/**
 * Runs every benchmark in sequence, each in its own child process (no shared heap, JIT or
 * page-cache state inside the process), forwarding the environment so the size knobs apply.
 * Each child prints its markdown table and writes bench/results/<name>.json.
 *
 *   npm run bench            (= bun run bench/run-all.ts)
 *   BENCH_ONLY=throughput,memory bun bench/run-all.ts
 */
import { join } from "node:path";

const ALL = ["record-call", "throughput", "event-loop", "memory", "schema-check"];
const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
const names = only ? ALL.filter((name) => only.includes(name)) : ALL;

const summary: { name: string; exitCode: number | null; seconds: number }[] = [];
for (const name of names) {
  const script = join(import.meta.dir, `${name}.ts`);
  console.log(`\n<!-- bun ${script} -->`);
  const started = performance.now();
  const child = Bun.spawn([process.execPath, script], { env: process.env, stdout: "inherit", stderr: "inherit" });
  const exitCode = await child.exited;
  summary.push({ name, exitCode, seconds: (performance.now() - started) / 1000 });
}

console.log("\n| benchmark | exit | seconds |\n| --- | --- | --- |");
for (const s of summary) console.log(`| ${s.name} | ${s.exitCode} | ${s.seconds.toFixed(1)} |`);
const failed = summary.filter((s) => s.exitCode !== 0);
if (failed.length > 0) {
  console.error(`failed: ${failed.map((s) => s.name).join(", ")}`);
  process.exit(1);
}
