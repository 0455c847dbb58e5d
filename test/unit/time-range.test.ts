/**
 * Times as people mean them (--since / --until), read in a zone, and the zone arithmetic
 * under them: offsets, daylight-saving changes (including Lord Howe's half hour), local days.
 */
import { describe, expect, test } from "bun:test";
import { bucketLabel } from "../../src/report/bucket-label.ts";
import { planPieces } from "../../src/report/plan.ts";
import { parseTime, TimeParseError } from "../../src/report/time-range.ts";
import { formatOffset, localIso, offsetAt, offsetSpans, resolveTimeZone, startOfLocalDay, TimeZoneError } from "../../src/report/time-zone.ts";

const NOW = Date.parse("2026-11-22T15:30:00Z");
const at = (timeZone: string) => ({ now: NOW, timeZone });
const iso = (ms: number) => new Date(ms).toISOString();

describe("parseTime", () => {
  test("durations are rolling: exactly that long before now, whatever the zone", () => {
    for (const zone of ["UTC", "Asia/Kolkata", "America/Los_Angeles"]) {
      expect(iso(parseTime("7d", at(zone)))).toBe("2026-11-15T15:30:00.000Z");
      expect(iso(parseTime("12h", at(zone)))).toBe("2026-11-22T03:30:00.000Z");
      expect(iso(parseTime("90m", at(zone)))).toBe("2026-11-22T14:00:00.000Z");
    }
  });

  test("today and yesterday begin at the zone's midnight; as --until they end the next one", () => {
    expect(iso(parseTime("today", at("UTC")))).toBe("2026-11-22T00:00:00.000Z");
    expect(iso(parseTime("today", at("Asia/Kolkata")))).toBe("2026-11-21T18:30:00.000Z");
    expect(iso(parseTime("today", at("America/Los_Angeles")))).toBe("2026-11-22T08:00:00.000Z");
    expect(iso(parseTime("yesterday", at("Asia/Kathmandu")))).toBe("2026-11-20T18:15:00.000Z");
    expect(iso(parseTime("yesterday", at("Asia/Kathmandu"), { endOfDay: true }))).toBe("2026-11-21T18:15:00.000Z");
    expect(iso(parseTime("today", at("UTC"), { endOfDay: true }))).toBe("2026-11-23T00:00:00.000Z");
  });

  test("a date is the zone's midnight; with endOfDay the next midnight, 23 or 25 hours later on DST days", () => {
    const berlin = at("Europe/Berlin");
    expect(iso(parseTime("2026-03-29", berlin))).toBe("2026-03-28T23:00:00.000Z");
    expect(parseTime("2026-03-29", berlin, { endOfDay: true }) - parseTime("2026-03-29", berlin)).toBe(23 * 3_600_000);
    expect(parseTime("2026-10-25", berlin, { endOfDay: true }) - parseTime("2026-10-25", berlin)).toBe(25 * 3_600_000);
    // Lord Howe moves its clocks by half an hour.
    const lordHowe = at("Australia/Lord_Howe");
    expect(parseTime("2026-10-04", lordHowe, { endOfDay: true }) - parseTime("2026-10-04", lordHowe)).toBe(23.5 * 3_600_000);
  });

  test("a local date-time is read in the zone; one with an offset or Z is that instant", () => {
    expect(iso(parseTime("2026-11-01T10:00", at("Asia/Kolkata")))).toBe("2026-11-01T04:30:00.000Z");
    expect(iso(parseTime("2026-11-01 10:00:30", at("UTC")))).toBe("2026-11-01T10:00:30.000Z");
    expect(iso(parseTime("2026-11-01T10:00:00+01:00", at("Asia/Kolkata")))).toBe("2026-11-01T09:00:00.000Z");
    expect(iso(parseTime("2026-11-01T10:00:00Z", at("America/Los_Angeles")))).toBe("2026-11-01T10:00:00.000Z");
  });

  test("wrong input: a clear error naming it, never a silent guess", () => {
    for (const [text, message] of [
      ["0d", /'0d' is empty/],
      ["2026-02-30", /'2026-02-30' is not a calendar date/],
      ["2026-11-01T25:00", /not a time of day|not a calendar date|cannot read/],
      ["someday", /cannot read 'someday' as a time/],
      ["", /cannot read '' as a time/],
      ["7 d", /cannot read/],
      ["-7d", /cannot read/],
      ["99999999d", /cannot read/],
      ["2026-11-01T10:00:00+25:00", /cannot read/],
    ] as const) {
      expect(() => parseTime(text, at("UTC"))).toThrow(TimeParseError);
      expect(() => parseTime(text, at("UTC"))).toThrow(message);
    }
  });
});

describe("time zones", () => {
  test("IANA names are resolved; anything else is refused", () => {
    expect(resolveTimeZone("Asia/Kolkata")).toBe("Asia/Kolkata");
    expect(resolveTimeZone("UTC")).toBe("UTC");
    for (const bad of ["Mars/Olympus", "", "x".repeat(200), "../../etc/passwd", "UTC; DROP TABLE executions"]) {
      expect(() => resolveTimeZone(bad)).toThrow(TimeZoneError);
    }
  });

  test("offsets, to the minute, and spans cut where they change", () => {
    expect(formatOffset(offsetAt("Asia/Kolkata", NOW))).toBe("+05:30");
    expect(formatOffset(offsetAt("Asia/Kathmandu", NOW))).toBe("+05:45");
    expect(formatOffset(offsetAt("America/Los_Angeles", NOW))).toBe("-08:00");
    const spans = offsetSpans("America/Los_Angeles", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1));
    expect(spans.map((s) => [iso(s.since), formatOffset(s.offsetMs)])).toEqual([
      ["2026-01-01T00:00:00.000Z", "-08:00"],
      ["2026-03-08T10:00:00.000Z", "-07:00"],
      ["2026-11-01T09:00:00.000Z", "-08:00"],
    ]);
    expect(offsetSpans("Australia/Lord_Howe", Date.UTC(2026, 9, 1), Date.UTC(2026, 9, 10)).map((s) => formatOffset(s.offsetMs))).toEqual(["+10:30", "+11:00"]);
  });

  test("local days and labels", () => {
    expect(iso(startOfLocalDay("Asia/Kolkata", NOW))).toBe("2026-11-21T18:30:00.000Z");
    expect(localIso("Asia/Kolkata", NOW)).toBe("2026-11-22T21:00:00.000+05:30");
    const wall = NOW + offsetAt("Asia/Kolkata", NOW);
    expect(bucketLabel("hour", wall, offsetAt("Asia/Kolkata", NOW))).toBe("2026-11-22T21:00+05:30");
    expect(bucketLabel("day", wall, 0)).toBe("2026-11-22");
    expect(bucketLabel("week", wall, 0)).toBe("2026-11-16");
    expect(bucketLabel("month", wall, 0)).toBe("2026-11");
  });
});

describe("planPieces", () => {
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`);

  /** A piece as [source, since, until, where it counts ("+" or "-" and the instant naming the bucket)]. */
  const shown = (pieces: ReturnType<typeof planPieces>) =>
    pieces.map((p) => [p.source, iso(p.since), iso(p.until), ...(p.counts ?? []).map((c) => `${c.sign > 0 ? "+" : "-"}${iso(c.at)}`)]);

  test("whole UTC days inside a bucket come from the rollups; a partial day mostly inside is the whole day less the rest", () => {
    const pieces = planPieces({ since: Date.parse("2026-11-15T15:30:00Z"), until: NOW, timeZone: "UTC", units: [], exact: false, dailyRollups: true, slots: null });
    expect(shown(pieces)).toEqual([
      ["raw", "2026-11-15T15:30:00.000Z", "2026-11-16T00:00:00.000Z"],
      ["day", "2026-11-16T00:00:00.000Z", "2026-11-22T00:00:00.000Z"],
      // 15.5 of the last day's 24 hours are in the range: the day, less its 8.5 hours after `until`.
      ["day", "2026-11-22T00:00:00.000Z", "2026-11-23T00:00:00.000Z", "+2026-11-15T15:30:00.000Z"],
      ["raw", "2026-11-22T15:30:00.000Z", "2026-11-23T00:00:00.000Z", "-2026-11-15T15:30:00.000Z"],
    ]);
  });

  test("with hourly rollups: partial days from whole hours where they cover them, partial hours raw", () => {
    const hourly = { from: Date.parse("2026-11-15T20:00:00Z"), to: Date.parse("2026-11-22T13:00:00Z"), size: 3_600_000 };
    const pieces = planPieces({ since: Date.parse("2026-11-15T15:30:00Z"), until: NOW, timeZone: "UTC", units: [], exact: false, dailyRollups: true, slots: hourly });
    expect(shown(pieces)).toEqual([
      ["raw", "2026-11-15T15:30:00.000Z", "2026-11-15T20:00:00.000Z"],
      ["slot", "2026-11-15T20:00:00.000Z", "2026-11-16T00:00:00.000Z"],
      ["day", "2026-11-16T00:00:00.000Z", "2026-11-22T00:00:00.000Z"],
      ["slot", "2026-11-22T00:00:00.000Z", "2026-11-22T13:00:00.000Z"],
      ["raw", "2026-11-22T13:00:00.000Z", "2026-11-22T15:30:00.000Z"],
    ]);
  });

  test("a +05:30 day: its first 5.5 hours, then the next UTC day less its last 5.5 hours, read once for both days they count in", () => {
    const kolkata = planPieces({ since: Date.parse("2026-11-01T18:30:00Z"), until: Date.parse("2026-11-03T18:30:00Z"), timeZone: "Asia/Kolkata", units: ["day"], exact: false, dailyRollups: true, slots: { from: 0, to: NOW, size: 3_600_000 } });
    const first = "2026-11-01T18:30:00.000Z";
    const second = "2026-11-02T18:30:00.000Z";
    expect(shown(kolkata)).toEqual([
      ["raw", "2026-11-01T18:30:00.000Z", "2026-11-01T19:00:00.000Z"],
      ["slot", "2026-11-01T19:00:00.000Z", "2026-11-02T00:00:00.000Z"],
      ["day", "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z", `+${first}`],
      ["raw", "2026-11-02T18:30:00.000Z", "2026-11-02T19:00:00.000Z", `-${first}`, `+${second}`],
      ["slot", "2026-11-02T19:00:00.000Z", "2026-11-03T00:00:00.000Z", `-${first}`, `+${second}`],
      ["day", "2026-11-03T00:00:00.000Z", "2026-11-04T00:00:00.000Z", `+${second}`],
      ["raw", "2026-11-03T18:30:00.000Z", "2026-11-03T19:00:00.000Z", `-${second}`],
      ["slot", "2026-11-03T19:00:00.000Z", "2026-11-04T00:00:00.000Z", `-${second}`],
    ]);
    // Los Angeles (UTC-8) for 30 days: 31 whole UTC days and 8-hour pieces, not 720 hours.
    const la = planPieces({ since: Date.parse("2026-10-01T07:00:00Z"), until: Date.parse("2026-10-31T07:00:00Z"), timeZone: "America/Los_Angeles", units: ["day"], exact: false, dailyRollups: true, slots: { from: 0, to: NOW, size: 3_600_000 } });
    const hoursRead = la.filter((p) => p.source === "slot").reduce((sum, p) => sum + (p.until - p.since) / 3_600_000, 0);
    expect(la.filter((p) => p.source === "day").length).toBe(30);
    expect(hoursRead).toBe(31 * 7);
    expect(la.some((p) => p.source === "raw")).toBe(false);
  });

  test("without hourly rollups, a +05:30 day is a UTC day less (and plus) raw rows: never 24 hours of raw rows", () => {
    const pieces = planPieces({ since: day("2026-11-01"), until: day("2026-11-08"), timeZone: "Asia/Kolkata", units: ["day"], exact: false, dailyRollups: true, slots: null });
    const rawHours = pieces.filter((p) => p.source === "raw").reduce((sum, p) => sum + (p.until - p.since) / 3_600_000, 0);
    expect(pieces.filter((p) => p.source === "day").length).toBe(7);
    expect(rawHours).toBe(7 * 5.5);
  });

  test("--exact, and a source without rollups, read raw rows only", () => {
    for (const options of [{ exact: true, dailyRollups: true, slots: { from: 0, to: day("2027-01-01"), size: 3_600_000 } }, { exact: false, dailyRollups: false, slots: null }]) {
      const pieces = planPieces({ since: day("2026-11-01"), until: day("2026-11-08"), timeZone: "UTC", units: ["day"], ...options });
      expect(pieces).toEqual([{ source: "raw", since: day("2026-11-01"), until: day("2026-11-08"), offsetMs: 0 }]);
    }
  });
});
