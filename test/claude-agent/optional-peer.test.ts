import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const capture = join(import.meta.dir, "../../src/capture");

/** What a module loads at run time: type-only imports are erased by the transpiler first. */
function runtimeImports(folder: string): string[] {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  return readdirSync(join(capture, folder))
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => transpiler.scanImports(readFileSync(join(capture, folder, name), "utf8")).map((i) => i.path));
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
});
