// The package as Node users get it: built dist/, resolved through package.json "exports".
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

test("every subpath export resolves and exposes its documented names", async () => {
  const tally = await import("tally");
  for (const name of ["createTelemetry", "createPricer", "createSystemClock", "TallyConfigError", "InvalidRecordError", "LIMITS"]) {
    assert.ok(name in tally, `tally exports ${name}`);
  }
  const sqlite = await import("tally/sqlite");
  assert.equal(typeof sqlite.openSqliteStore, "function");
  assert.equal(typeof sqlite.SCHEMA_VERSION, "number");
  const pricing = await import("tally/pricing");
  assert.equal(typeof pricing.createPricer, "function");
  for (const subpath of Object.keys(pkg.exports)) {
    const target = pkg.exports[subpath];
    if (typeof target === "object") assert.ok(readFileSync(join(root, target.types)), `${subpath} has type declarations`);
  }
  // Every code subpath is actually imported through its "exports" entry, and its documented
  // runtime names are there (functions where they are functions).
  const documented = {
    ".": { createTelemetry: "function", createPricer: "function", createSystemClock: "function", TallyConfigError: "function", InvalidRecordError: "function", LIMITS: "object", OPEN_WORK: "symbol" },
    "./sqlite": { openSqliteStore: "function", SCHEMA_VERSION: "number" },
    "./pricing": { createPricer: "function", defaultPricer: "object" },
    "./mcp": { instrumentMcpServer: "function", traceIdOf: "function", ARGUMENTS_ATTRIBUTE: "string", RESULT_ATTRIBUTE: "string", EXECUTION_ID_META_KEY: "string" },
    "./claude-agent": { instrumentQuery: "function", telemetryHooks: "function", toolIdentity: "function", UNKNOWN_MODEL: "string" },
    "./github": { deliveryContext: "function", readHeader: "function", MAX_HEADER_LENGTH: "number" },
    "./http": { openHttpStore: "function" },
    "./postgres": { openPostgresStore: "function", POSTGRES_SCHEMA_VERSION: "number", isPostgresUrl: "function", redactUrl: "function" },
    "./server": { createServerApp: "function", startServer: "function", isLoopback: "function" },
  };
  const codeSubpaths = Object.keys(pkg.exports).filter((subpath) => typeof pkg.exports[subpath] === "object");
  assert.deepEqual([...codeSubpaths].sort(), Object.keys(documented).sort(), "each code subpath export has its documented names listed here");
  for (const subpath of codeSubpaths) {
    const specifier = subpath === "." ? "tally" : `tally/${subpath.slice(2)}`;
    const mod = await import(specifier);
    for (const [name, type] of Object.entries(documented[subpath])) {
      assert.equal(typeof mod[name], type, `${specifier} exports ${name} as a ${type}`);
    }
  }
});

test("importing the package root loads no database driver", () => {
  const script = `
    const { createRequire } = await import("node:module");
    await import("tally");
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(cache.filter((p) => /better-sqlite3|bun:sqlite/.test(p))));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  assert.deepEqual(JSON.parse(out), []);
});

/**
 * The modules `entry` loads, read statically from dist/: relative files followed, bare
 * specifiers collected (ESM loads are not in require.cache). `dynamic`: follow `import()` too.
 */
function importGraph(entry, { dynamic }) {
  const seen = new Set();
  const bare = new Set();
  const pattern = dynamic
    ? /(?:^|[;\n])\s*(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(["']([^"']+)["']\)/g
    : /(?:^|[;\n])\s*(?:import|export)[^'"(]*?from\s*["']([^"']+)["']()/g;
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(pattern)) {
      const specifier = match[1] || match[2];
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier));
      else bare.add(specifier);
    }
  };
  visit(join(root, entry));
  return { files: [...seen].map((f) => f.slice(root.length + 1)), bare: [...bare] };
}

test("the package root's import graph reaches no store, server, HTTP framework or protobuf code", () => {
  const { files, bare } = importGraph("dist/index.js", { dynamic: true });
  assert.ok(files.length > 5, `followed the graph: ${files.length} files`);
  assert.deepEqual(files.filter((f) => /dist\/(store|server|capture\/otlp)\//.test(f)), []);
  assert.deepEqual(bare.filter((s) => /hono|prom-client|bufbuild|better-sqlite3|bun:sqlite|zod/.test(s)), []);
});

test("the tally bin loads no server, dashboard, OTLP or price tables before a command needs them", () => {
  // Every `tally` command starts with this graph: the server cost --version 0.04 → 0.31 s when it was in it.
  const { files, bare } = importGraph("dist/cli/bin.js", { dynamic: false });
  assert.ok(files.some((f) => f.endsWith("cli/commands/serve.js")), "followed the graph to the serve command");
  // dist/server/loopback.js is the one server file serve checks before loading the rest.
  assert.deepEqual(files.filter((f) => /dist\/server\/(?!loopback\.js)|dist\/capture\/otlp\/|core\/telemetry\.js/.test(f)), []);
  assert.deepEqual(bare.filter((s) => /hono|prom-client|bufbuild|zod|genai-prices|preact|uplot/.test(s)), []);
});

test("createTelemetry records into SQLite under Node end to end", async () => {
  const { createTelemetry } = await import("tally");
  const { openSqliteStore } = await import("tally/sqlite");
  const store = openSqliteStore({ path: ":memory:" });
  assert.equal(store.driverName, "better-sqlite3");
  const telemetry = createTelemetry({ store, flushOnExit: false });
  telemetry.recordExecution({ model: "claude-sonnet-4-5", conclusion: "success", inputTokens: 1000, outputTokens: 1000 });
  telemetry.recordExecution(null);
  await telemetry.flush();
  assert.deepEqual(telemetry.stats().dropped, { queueFull: 0, invalid: 1, writeFailed: 0, afterShutdown: 0 });
  assert.equal(telemetry.stats().written, 1);
  await telemetry.shutdown();
});

test("publint finds nothing wrong with the package", () => {
  const bin = join(root, "node_modules/publint/src/cli.js");
  const out = execFileSync(process.execPath, [bin, "--strict"], { cwd: root, encoding: "utf8" });
  assert.doesNotMatch(out, /error|warning/i, out);
});
