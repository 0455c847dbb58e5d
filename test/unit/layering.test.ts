import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const src = join(import.meta.dir, "../../src");

const transpiler = new Bun.Transpiler({ loader: "ts" });

/**
 * What a module loads at run time: static imports and re-exports, side-effect imports
 * (`import "x"`), dynamic `import()` and `require()`. Type-only imports are erased first.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return transpiler.scanImports(text).map((i) => i.path);
}

/** Every file reachable from `entry` through relative imports. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
  };
  visit(entry);
  return seen;
}

describe("layering", () => {
  test("src/core imports no runtime module and no driver", () => {
    const offenders: string[] = [];
    for (const name of readdirSync(join(src, "core"))) {
      for (const spec of importsOf(join(src, "core", name))) {
        if (/^(bun:|node:|better-sqlite3|postgres|pg$|hono)/.test(spec)) offenders.push(`${name} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("the package root reaches no store and no driver", () => {
    const files = [...reachable(join(src, "index.ts"))].map((f) => f.slice(src.length + 1));
    expect(files).toContain("core/telemetry.ts"); // the walk follows the root's re-exports
    expect(files.filter((f) => f.startsWith("store/"))).toEqual([]);
    const externals = [...reachable(join(src, "index.ts"))].flatMap(importsOf).filter((s) => !s.startsWith("."));
    expect(new Set(externals)).toEqual(new Set(["uuidv7", "@pydantic/genai-prices"]));
  });
});
