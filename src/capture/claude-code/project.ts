import { basename, dirname, sep } from "node:path";

/**
 * The project folder a transcript belongs to: the directory right below the last `projects`
 * segment of its path (`…/projects/<folder>/<session>.jsonl`, also for
 * `…/projects/<folder>/<session>/subagents/<agent>.jsonl`), as ccusage names projects;
 * for a file outside any `projects` directory, the name of the directory holding it.
 */
export function projectFolderOf(filePath: string): string {
  const segments = filePath.split(sep);
  // The last segment is the file itself, never a project folder.
  for (let i = segments.length - 3; i >= 0; i--) {
    if (segments[i] === "projects" && segments[i + 1]) return segments[i + 1]!;
  }
  return basename(dirname(filePath));
}

/**
 * Claude Code names a project folder after the directory it was started in, with every
 * character other than a letter or digit replaced by `-` (`/home/me/my-app` →
 * `-home-me-my-app`). That cannot be undone (`my-app` and `my/app` look alike), so the
 * folder is decoded with a `cwd` read from the transcript: when that cwd encodes to exactly
 * the folder name, it is the project's real path.
 */
export function encodeProjectPath(path: string): string {
  return path.replace(/[^a-zA-Z0-9]/g, "-");
}

/**
 * The `repo` of a transcript's executions: the real project path when the file's first `cwd`
 * encodes to its folder name, else the folder name as it is. It is one value per file, chosen
 * from the file's head (which an append-only file never changes), so a session whose shell
 * later moved to a subdirectory still reports under its project, and a later incremental
 * import names the same file the same way.
 */
export function repoFor(folder: string, firstCwd: string | null): string {
  if (firstCwd !== null && encodeProjectPath(firstCwd) === folder) return firstCwd;
  return folder;
}
