/**
 * Monthly partitions of the high-volume raw tables. There is no default partition (a row
 * landing in it would block attaching its month later), so every month a row may fall in
 * gets its partition before the row is written: months ahead at open and at each maintenance
 * run, and any other month a batch needs on demand. A partition is made as a plain table
 * (`LIKE` the parent) and then attached, which takes only a SHARE UPDATE EXCLUSIVE lock on the
 * parent: ingest into other months goes on meanwhile.
 */
import type { Sql } from "postgres";
import { transaction } from "./connection.ts";
import { advisoryKey } from "./migrate.ts";
import { PARTITIONED_TABLES, type PartitionedTable } from "./schema.ts";

/** The first instant of the UTC month holding `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonth(start: number): number {
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `executions_p2026_12`: the partition of `table` for the month starting at `start`. */
export function partitionName(table: PartitionedTable, start: number): string {
  const d = new Date(start);
  return `${table}_p${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The partitions that exist, by table, as month starts; read from the catalog. */
export async function listPartitions(sql: Sql, schema: string): Promise<Map<PartitionedTable, Set<number>>> {
  const rows = await sql`
    SELECT parent.relname AS parent, child.relname AS child
    FROM pg_inherits i
    JOIN pg_class parent ON parent.oid = i.inhparent
    JOIN pg_class child ON child.oid = i.inhrelid
    JOIN pg_namespace n ON n.oid = parent.relnamespace
    WHERE n.nspname = ${schema} AND parent.relkind = 'p'`;
  const found = new Map<PartitionedTable, Set<number>>(PARTITIONED_TABLES.map((t) => [t, new Set()]));
  for (const row of rows) {
    const months = found.get(row.parent as PartitionedTable);
    const match = /_p(\d{4})_(\d{2})$/.exec(String(row.child));
    if (months && match) months.add(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
  }
  return found;
}

/**
 * Keeps the partition catalog of one store: which months exist, and creates the missing
 * ones under an advisory lock (so two servers never race to attach the same month).
 */
export class Partitions {
  private known = new Map<PartitionedTable, Set<number>>();

  constructor(private readonly sql: Sql, private readonly schema: string) {}

  async refresh(): Promise<void> {
    this.known = await listPartitions(this.sql, this.schema);
  }

  /** Month starts of `table` that have a partition. */
  months(table: PartitionedTable): number[] {
    return [...(this.known.get(table) ?? [])].sort((a, b) => a - b);
  }

  /** Makes sure every table has a partition for each month holding one of `instants`. */
  async ensure(instants: Iterable<number>): Promise<void> {
    const needed = new Set<number>();
    // A batch's rows mostly share one month: only an instant outside the last month found is worked out.
    let from = Infinity;
    let to = -Infinity;
    for (const ms of instants) {
      if (ms >= from && ms < to) continue;
      from = monthStart(ms);
      to = nextMonth(from);
      needed.add(from);
    }
    const missing = [...needed].filter((start) => PARTITIONED_TABLES.some((t) => !this.known.get(t)?.has(start)));
    if (missing.length === 0) return;
    await transaction(this.sql, "", async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${advisoryKey(this.schema, "partitions")}, 0))`;
      const existing = await listPartitions(tx as unknown as Sql, this.schema);
      for (const start of missing.sort((a, b) => a - b)) {
        for (const table of PARTITIONED_TABLES) {
          if (existing.get(table)?.has(start)) continue;
          const name = partitionName(table, start);
          await tx.unsafe(`CREATE TABLE IF NOT EXISTS "${this.schema}"."${name}" (LIKE "${this.schema}"."${table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
          await tx.unsafe(`ALTER TABLE "${this.schema}"."${table}" ATTACH PARTITION "${this.schema}"."${name}" FOR VALUES FROM (${start}) TO (${nextMonth(start)})`);
        }
      }
    });
    await this.refresh();
  }

  /**
   * Detaches and drops every partition whose whole month is before `cutoff`; returns how
   * many rows they held. Rows before the cut-off in the month that straddles it are left to
   * the caller's DELETE.
   */
  async dropBefore(cutoff: number): Promise<number> {
    await this.refresh();
    let rows = 0;
    for (const table of PARTITIONED_TABLES) {
      for (const start of this.months(table)) {
        if (nextMonth(start) > cutoff) continue;
        const name = partitionName(table, start);
        const [count] = await this.sql.unsafe(`SELECT count(*) AS n FROM "${this.schema}"."${name}"`);
        rows += Number(count?.n ?? 0);
        // DETACH … CONCURRENTLY waits out running queries instead of blocking new ones on the parent.
        await this.sql.unsafe(`ALTER TABLE "${this.schema}"."${table}" DETACH PARTITION "${this.schema}"."${name}" CONCURRENTLY`);
        await this.sql.unsafe(`DROP TABLE "${this.schema}"."${name}"`);
      }
    }
    await this.refresh();
    return rows;
  }
}
