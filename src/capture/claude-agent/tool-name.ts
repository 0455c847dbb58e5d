/** A tool as reports show it: MCP tools split into server and bare tool name. */
export interface ToolIdentity {
  toolName: string;
  /** The MCP server, or `""` for a built-in tool (Bash, Read, …). */
  server: string;
}

/**
 * Splits the Agent SDK's `mcp__<server>__<tool>` names, as Claude Code does: the server is
 * the part after `mcp__`, the tool everything after the next `__`. Other names are built-in
 * tools. `server` (the hook's `mcp_server.name`, the name as configured) wins when given.
 */
export function toolIdentity(name: string, server?: string): ToolIdentity {
  if (name.startsWith("mcp__")) {
    const split = name.indexOf("__", 5);
    if (split > 5 && split + 2 < name.length) {
      return { toolName: name.slice(split + 2), server: server || name.slice(5, split) };
    }
  }
  return { toolName: name, server: server ?? "" };
}
