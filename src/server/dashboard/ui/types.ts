/** The API's answers, as the report engine types them (type-only: nothing of the server is bundled). */
import type { CacheRow, CacheSeriesRow, DegradationRow, ToolRow, UsageRow } from "../../../report/spec.ts";
import type { RunDetail, RunsPage, SessionView, ToolCallView } from "../../../report/runs.ts";

export type { CacheRow, DegradationRow, RunDetail, RunsPage, SessionView, ToolCallView, ToolRow, UsageRow };

interface RangeJson {
  range: { since: string | null; until: string | null; timeZone: string };
}

export interface UsageJson extends RangeJson {
  rows: UsageRow[];
  totals: UsageRow;
  unpricedModels: string[];
  source: string;
}

export interface ToolsJson extends RangeJson {
  rows: ToolRow[];
  totals: ToolRow;
}

export interface DegradationsJson extends RangeJson {
  rows: DegradationRow[];
  totals: DegradationRow;
  totalRuns: number;
  caches: CacheRow[];
  cacheSeries?: CacheSeriesRow[];
}

export interface ToolCallsPage {
  toolCalls: ToolCallView[];
  nextCursor: string | null;
}

export interface SessionsPage {
  sessions: SessionView[];
  nextCursor: string | null;
}
