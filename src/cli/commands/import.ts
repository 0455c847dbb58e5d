import { statSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { findTranscriptFiles, type FileProblem } from "../../capture/claude-code/find-files.ts";
import type { ImportProgress, ImportTranscriptsResult } from "../../capture/claude-code/import-transcripts.ts";
import { transcriptRoots } from "../../capture/claude-code/locations.ts";
import { formatBytes, formatCount, formatDuration } from "../../report/format/units.ts";
import type { Command } from "../command.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { openForWriting } from "../open-database.ts";
import { openPostgresForCli, usesPostgres } from "../open-postgres.ts";
import { redactUrl } from "../../store/postgres/url.ts";

const SOURCES = ["claude-code"] as const;

/** Rows between the import's WAL checkpoints: the WAL stays within ~30 MB on a first import. */
const IMPORT_CHECKPOINT_ROWS = 50_000;

/** The `--json` summary; its shape is part of the CLI's contract (documented in --help). */
export interface ImportSummary extends Omit<ImportTranscriptsResult, "errors"> {
  source: "claude-code";
  database: string;
  /** The paths given, or the default locations that exist. */
  paths: string[];
  /** Paths and files skipped, with why. */
  errors: FileProblem[];
  elapsedMs: number;
}

export const importCommand: Command = {
  name: "import",
  summary: "import Claude Code / Agent SDK transcripts (deduplicated, incremental)",
  arguments: "claude-code [PATH…]",
  positionals: true,
  flags: {},
  details: `
Reads Claude Code and Claude Agent SDK session transcripts (JSONL) into executions: one per
API response, with model, tokens, cost (the transcript's costUSD when present, else priced),
project (as repo) and session. Directories are walked for *.jsonl at any depth (subagent
transcripts included); files are read as given. Without PATH: $CLAUDE_CONFIG_DIR/projects
(comma-separated list) when set, else ~/.config/claude/projects and ~/.claude/projects.

Safe to run again and again: each response has a fixed id (message.id, with requestId when
present), so re-imports, repeated lines and overlapping copies of a folder count once; each
file is read from where the last import stopped (a file that shrank or was rewritten is read
again). Claude Code writes a response's lines while it streams: a response counts with its
final snapshot (the line with the most output tokens) at its first line's time, and a final
snapshot found by a later import replaces the partial one counted before (\`updated\`).
Malformed lines are skipped and counted; unreadable files are reported and skipped.
Token totals per day match \`ccusage daily\` (v20); days are UTC days.

Examples:
  tally import claude-code
  tally import claude-code ~/.claude/projects /mnt/laptop-backup/.claude/projects
  tally import claude-code ./session.jsonl --db ./data/tally.db
  tally import claude-code --json | jq .imported
  tally report --by day --event claude-code.api-response

--json prints one object:
  { source, database, paths: [..],
    files: { found, read, unchanged, reread, failed },
    bytesRead, linesRead,               (this run only)
    apiResponses, imported, updated,    (response lines seen, executions added, partial ones completed)
    duplicates,                         (response lines that added nothing: earlier snapshots, copies)
    olderThanPurged,                    (responses older than a purge of this database: not re-counted)
    ignored: { noUsage, synthetic, apiError, invalid },
    malformed: { lines, first: { path, line } | null },
    errors: [ { path, message } ], elapsedMs }`,

  async run(context) {
    const [source, ...given] = context.positionals;
    if (source === undefined) throw new UsageError("which source? tally import needs one", "tally import claude-code [PATH…]");
    if (!(SOURCES as readonly string[]).includes(source)) {
      throw new UsageError(`unknown source '${source}'`, `sources: ${SOURCES.join(", ")}; e.g. tally import claude-code [PATH…]`);
    }
    const { io } = context;
    const started = io.now();
    const paths = given.length > 0 ? checkedPaths(io, given) : defaultPaths(io);

    // Loaded here, not at start-up: pricing data takes ~65 ms to load, which no other command should pay.
    const { importClaudeCodeTranscripts } = await import("../../capture/claude-code/import-transcripts.ts");
    const { ImportWriteError } = await import("../../capture/claude-code/batch-sink.ts");
    const found = await findTranscriptFiles(paths);
    // A bulk writer that closes (and so checkpoints) when done: checkpointing every 1,000 rows
    // would write the same hot pages (rollups, the id index's tail) out again and again.
    const store = usesPostgres(context)
      ? await openPostgresForCli(context)
      : openForWriting(context, { mustExist: false, checkpointEveryRows: IMPORT_CHECKPOINT_ROWS });
    let result: ImportTranscriptsResult;
    const progress = io.stderr.isTTY ? progressBar(io) : undefined;
    try {
      result = await importClaudeCodeTranscripts({ store, files: found.files, now: () => io.now(), onProgress: progress?.update });
    } catch (error) {
      if (error instanceof ImportWriteError) {
        throw new CliError(`writing to ${usesPostgres(context) ? redactUrl(context.dbPath) : context.dbPath} failed: ${error.message}`, "nothing of the failed batch was saved; run the same import again to resume", { cause: error });
      }
      throw error;
    } finally {
      progress?.done();
      await store.close();
    }

    const errors = [...found.problems, ...result.errors];
    const summary: ImportSummary = { source: "claude-code", database: usesPostgres(context) ? redactUrl(context.dbPath) : context.dbPath, paths, ...result, errors, elapsedMs: io.now() - started };
    for (const problem of errors) io.stderr.write(`tally import: skipped ${problem.path}: ${problem.message}\n`);
    if (context.format === "json") io.stdout.write(`${JSON.stringify(summary)}\n`);
    else io.stdout.write(`${summaryLine(summary)}\n`);
    return EXIT.ok;
  },
};

/** Resolves the PATH arguments; a missing one, or one that is neither file nor directory, fails before anything is written. */
function checkedPaths(io: CliIo, given: string[]): string[] {
  return given.map((arg) => {
    const path = resolve(io.cwd, arg);
    let info;
    try {
      info = statSync(path);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ENOENT") throw new CliError(`no such file or directory: ${arg}`, "pass a transcript file or a folder of them, e.g. ~/.claude/projects");
      throw new CliError(`cannot read ${arg}: ${code ?? String(error)}`, "check the path and its permissions");
    }
    if (!info.isFile() && !info.isDirectory()) throw new CliError(`${arg} is neither a file nor a directory`, "pass a transcript file (.jsonl) or a folder of them");
    return path;
  });
}

function defaultPaths(io: CliIo): string[] {
  const roots = transcriptRoots(io.env, io.env.HOME || homedir());
  const existing = roots.filter((root) => root.exists).map((root) => root.path);
  if (existing.length === 0) {
    throw new CliError(
      `no Claude Code transcripts found (looked in ${roots.map((root) => root.path).join(", ")})`,
      "pass where they are: tally import claude-code PATH…, or set CLAUDE_CONFIG_DIR",
    );
  }
  return existing;
}

/** One line for people: what was read, what was added, what was wrong, how long it took. */
export function summaryLine(s: ImportSummary): string {
  const files = `${formatCount(s.files.found)} files (${formatCount(s.files.read)} read, ${formatCount(s.files.unchanged)} unchanged${s.files.reread > 0 ? `, ${formatCount(s.files.reread)} re-read from the start` : ""}${s.files.failed > 0 ? `, ${formatCount(s.files.failed)} failed` : ""})`;
  const parts = [
    `imported ${formatCount(s.imported)} executions from ${files}`,
    `${formatCount(s.linesRead)} new lines (${formatBytes(s.bytesRead)})`,
    `${formatCount(s.duplicates)} duplicates skipped`,
  ];
  if (s.updated > 0) parts.push(`${formatCount(s.updated)} responses completed (their final snapshot replaced a partial one)`);
  if (s.olderThanPurged > 0) parts.push(`${formatCount(s.olderThanPurged)} responses older than the last purge not re-counted`);
  if (s.malformed.first !== null) parts.push(`${formatCount(s.malformed.lines)} malformed lines skipped (first: ${s.malformed.first.path}:${s.malformed.first.line})`);
  else parts.push("no malformed lines");
  parts.push(formatDuration(s.elapsedMs));
  return parts.join("; ");
}

/** A progress bar on stderr, redrawn at most every 100 ms: bytes done / total and the read rate. */
function progressBar(io: CliIo): { update(p: ImportProgress): void; done(): void } {
  const started = io.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(p) {
      const now = io.now();
      if (now - lastDraw < 100 && p.bytesDone < p.bytesTotal) return;
      lastDraw = now;
      const ratio = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 1;
      const width = 24;
      const filled = Math.round(ratio * width);
      const seconds = Math.max((now - started) / 1000, 0.001);
      const rate = `${formatBytes(p.bytesDone / seconds)}/s`;
      io.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}  ${rate}  ${p.filesDone}/${p.filesTotal} files\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr.write("\r\x1b[K");
    },
  };
}
