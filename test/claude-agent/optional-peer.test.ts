import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const capture = join(import.meta.dir, "../../src/capture");

/** What a module loads at run time: type-only imports are erased by the transpiler first. */
function runtimeImports(folder: string): string[] {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  return readdirSync(join(capture, folder))
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => transpiler.scanImports(readFileSync(join(capture, folder, name), "utf8")).map((i) => i.path));
}

/** Every package the module graph from `entry` loads at run time, following relative imports. */
function runtimePackagesFrom(entry: string): string[] {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { path } of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (path.startsWith(".")) visit(resolve(dirname(file), path));
      else packages.add(path);
    }
  };
  visit(entry);
  expect(seen.size).toBeGreaterThan(1); // the walk did follow the entry's imports
  return [...packages];
}

describe("the optional peer stays optional", () => {
  test("tally/claude-agent imports only types from @anthropic-ai/claude-agent-sdk, and no other package", () => {
    const imports = runtimeImports("claude-agent");
    expect(imports.filter((path) => !path.startsWith("."))).toEqual([]);
    const source = readdirSync(join(capture, "claude-agent")).map((name) => readFileSync(join(capture, "claude-agent", name), "utf8")).join("\n");
    // The types are really used (so this test would notice a switch to a runtime import).
    expect(source).toContain('from "@anthropic-ai/claude-agent-sdk"');
  });

  test("tally/github loads no package at all", () => {
    expect(runtimeImports("github").filter((path) => !path.startsWith("."))).toEqual([]);
  });

  test("tally/mcp loads nothing from @modelcontextprotocol/sdk, directly or through what it imports", () => {
    const imports = runtimeImports("mcp");
    expect(imports.length).toBeGreaterThan(0);
    // The capture folder itself imports no package at all (the SDK's shapes are restated in shapes.ts).
    expect(imports.filter((path) => !path.startsWith("."))).toEqual([]);
    const reachable = runtimePackagesFrom(join(capture, "mcp", "index.ts"));
    expect(reachable.filter((path) => path.startsWith("@modelcontextprotocol/"))).toEqual([]);
  });
});
