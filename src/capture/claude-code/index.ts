/**
 * Import of Claude Code and Claude Agent SDK session transcripts (`~/.claude/projects/**.jsonl`)
 * into executions: one per API response, deduplicated, incremental. Used by
 * `tally import claude-code`.
 * @module
 */
export { transcriptRoots, type TranscriptRoot } from "./locations.ts";
export { findTranscriptFiles, type FileProblem, type FoundFiles } from "./find-files.ts";
export { parseTranscriptLine, classifyTranscriptEntry, type ParsedLine, type UsageLine, type IgnoredReason } from "./parse-line.ts";
export { CLAUDE_CODE_EVENT_TYPE, executionIdFor, toExecutionRecord } from "./to-execution.ts";
export { encodeProjectPath, projectFolderOf, repoFor } from "./project.ts";
export { IMPORT_SOURCE } from "./plan-file.ts";
export { ImportWriteError, type ImportTarget } from "./batch-sink.ts";
export {
  importClaudeCodeTranscripts,
  type ImportProgress,
  type ImportTranscriptsOptions,
  type ImportTranscriptsResult,
} from "./import-transcripts.ts";
