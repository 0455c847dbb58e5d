import { statSync } from "node:fs";
import { join, resolve } from "node:path";

/** Where to look, and what each place was found to be. */
export interface TranscriptRoot {
  /** Absolute path of a `projects` directory. */
  path: string;
  exists: boolean;
}

/**
 * The `projects` directories Claude Code writes transcripts to, as ccusage 18 finds them:
 * when `CLAUDE_CONFIG_DIR` is set (a comma-separated list of config directories), only
 * `<dir>/projects` for each of those, as Claude Code itself then writes nowhere else;
 * otherwise `$XDG_CONFIG_HOME/claude/projects` (default `~/.config/claude/projects`) and
 * `~/.claude/projects`. Every candidate is returned with whether it exists, so the caller can
 * say where it looked. Environment values come from the caller: the CLI passes its own.
 */
export function transcriptRoots(env: Record<string, string | undefined>, home: string): TranscriptRoot[] {
  const configured = (env.CLAUDE_CONFIG_DIR ?? "").trim();
  const configDirs = configured !== ""
    ? configured.split(",").map((dir) => dir.trim()).filter((dir) => dir !== "")
    : [join(env.XDG_CONFIG_HOME?.trim() || join(home, ".config"), "claude"), join(home, ".claude")];
  const seen = new Set<string>();
  const roots: TranscriptRoot[] = [];
  for (const dir of configDirs) {
    const path = resolve(dir, "projects");
    if (seen.has(path)) continue;
    seen.add(path);
    roots.push({ path, exists: isDirectory(path) });
  }
  return roots;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
