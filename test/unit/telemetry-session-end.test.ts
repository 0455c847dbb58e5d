/**
 * endSession(id, { endedAt }): a session recorded after the fact ends when it ended, not when
 * it was recorded; without it, at the moment of the call.
 */
import { expect, test } from "bun:test";
import { createTelemetry } from "../../src/core/telemetry.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { queryRows } from "../support/sql.ts";

test("endedAt is stored as given; a bad one is dropped as invalid and counted", async () => {
  const store = openSqliteStore({ path: ":memory:" });
  const telemetry = createTelemetry({ store, flushOnExit: false });
  telemetry.startSession("s1", { startedAt: "2026-11-20T10:00:00Z" });
  telemetry.endSession("s1", { endedAt: "2026-11-20T10:05:00Z" });
  telemetry.startSession("s2", { startedAt: "2026-11-20T10:00:00Z" });
  const before = Date.now();
  telemetry.endSession("s2");
  telemetry.endSession("s3", { endedAt: "not a time" });
  await telemetry.flush();
  const rows = queryRows(store, "SELECT id, ended_at FROM sessions ORDER BY id");
  expect(rows[0]).toEqual({ id: "s1", ended_at: Date.parse("2026-11-20T10:05:00Z") });
  // The telemetry's clock is wall time anchored to a monotonic one: within a second of Date.now().
  expect(Math.abs(Number(rows[1]!.ended_at) - before)).toBeLessThan(1000);
  expect(telemetry.stats().dropped.invalid).toBe(1);
  await telemetry.shutdown();
});
