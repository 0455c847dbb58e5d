import type { SqlValue } from "../driver.ts";

/** WHERE conditions with their bound values; column names come only from the callers' allow-lists. */
export class Where {
  private readonly conditions: string[] = [];
  readonly params: SqlValue[] = [];

  add(condition: string, ...params: SqlValue[]): this {
    this.conditions.push(condition);
    this.params.push(...params);
    return this;
  }

  /** `(column GLOB ? OR …)` for a list of patterns; nothing when the list is empty. */
  anyGlob(column: string, patterns: readonly string[] | undefined): this {
    if (!patterns || patterns.length === 0) return this;
    return this.add(`(${patterns.map(() => `${column} GLOB ?`).join(" OR ")})`, ...patterns);
  }

  toSql(): string {
    return this.conditions.length === 0 ? "" : `WHERE ${this.conditions.join(" AND ")}`;
  }
}
