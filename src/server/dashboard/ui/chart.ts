/**
 * A time-series chart (uPlot: canvas, ~50 KB, made for time series) with its numbers in a table
 * beside it for people who cannot see the chart. Values come straight from API rows; a bucket a
 * series has no row for is drawn as a gap, never invented.
 */
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  /** One value per bucket; null where the API returned no row. */
  values: (number | null)[];
}

export interface TimeChartProps {
  title: string;
  /** Bucket labels as the API gave them (2026-11-22T14:00+01:00, 2026-11-22). */
  buckets: string[];
  series: ChartSeries[];
  format: (value: number) => string;
  /** Extra note under the title (what is not drawn). */
  note?: string;
  /** The zone the hour buckets are in (day buckets are drawn by their date alone). */
  timeZone: string;
  /** Events that happen in few buckets: points, no lines (a line would invent the buckets between). */
  sparse?: boolean;
}

/** Colours that read on light and dark backgrounds alike (Okabe–Ito, colour-blind safe). */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8f7f00", "#999999"];

/**
 * A bucket label as seconds since the epoch: an hour carries its offset (a true instant); a day
 * is placed at its date's UTC midnight and drawn in UTC, so the axis shows the API's date.
 */
export function bucketSeconds(label: string): number {
  return label.length === 10 ? Date.parse(`${label}T00:00:00Z`) / 1000 : Date.parse(label) / 1000;
}

const DAY_S = 86_400;
const dayLabel = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

let chartCount = 0;

export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const id = useRef(`chart-${++chartCount}`);
  useEffect(() => {
    const element = box.current;
    if (element === null || props.buckets.length === 0) return;
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue("--muted").trim() || "#666";
    const grid = css.getPropertyValue("--grid").trim() || "#ddd";
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const width = () => Math.max(280, element.clientWidth);
    const days = props.buckets[0]!.length === 10;
    const xAxis = days
      ? { ...axis, space: 50, incrs: [DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S, 28 * DAY_S], values: (_u: uPlot, ticks: number[]) => ticks.map((t) => dayLabel.format(t * 1000)) }
      : axis;
    const zone = days ? "UTC" : props.timeZone;
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone),
        axes: [xAxis, { ...axis, size: 64, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => props.format(t)) }],
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            points: { show: props.sparse === true || props.buckets.length < 60, size: props.sparse ? 7 : 5, fill: PALETTE[i % PALETTE.length] },
            ...(props.sparse ? { paths: () => null } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : props.format(v)),
          })),
        ],
      },
      [props.buckets.map(bucketSeconds), ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    // uPlot draws on a canvas; the table below carries the numbers for assistive technology.
    plot.root.setAttribute("aria-hidden", "true");
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.buckets, props.series, props.format, props.timeZone, props.sparse]);

  return html`<section class="chart" aria-labelledby=${id.current}>
    <h3 id=${id.current}>${props.title}</h3>
    ${props.note ? html`<p class="note">${props.note}</p>` : null}
    ${props.buckets.length === 0 ? html`<p class="empty">Nothing in this range.</p>` : html`<div class="plot" ref=${box} data-chart=${props.title}></div>`}
    <details>
      <summary>${props.title}: the numbers</summary>
      <div class="scroll">
        <table class="data">
          <thead><tr><th scope="col">Bucket</th>${props.series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
          <tbody>
            ${props.buckets.map(
              (b, i) => html`<tr><th scope="row">${b}</th>${props.series.map((s) => html`<td>${s.values[i] === null ? "–" : props.format(s.values[i] as number)}</td>`)}</tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </section>`;
}

/**
 * Chart data from report rows grouped by (bucket, dimension): one series per dimension value in
 * `order` (at most `max`), one point per bucket that has any row. A series with no row in a
 * bucket gets `missing`: 0 for counts and sums (no row means none), null for rates and
 * percentiles (nothing to measure: a gap).
 */
export function pivot<R extends { group: Record<string, string | undefined> }>(
  rows: R[], bucket: string, dimension: string, order: string[], value: (row: R) => number | null, missing: 0 | null, max = 8,
): { buckets: string[]; series: ChartSeries[]; hidden: number } {
  const buckets = [...new Set(rows.map((r) => r.group[bucket] ?? ""))].sort((a, b) => bucketSeconds(a) - bucketSeconds(b));
  const present = new Set(rows.map((r) => r.group[dimension] ?? ""));
  const names = [...order.filter((n) => present.has(n)), ...[...present].filter((n) => !order.includes(n)).sort()];
  const index = new Map(buckets.map((b, i) => [b, i]));
  const series = names.slice(0, max).map((label) => ({ label, values: buckets.map((): number | null => missing) }));
  const byName = new Map(series.map((s) => [s.label, s]));
  for (const row of rows) {
    const s = byName.get(row.group[dimension] ?? "");
    if (s !== undefined) s.values[index.get(row.group[bucket] ?? "")!] = value(row);
  }
  return { buckets, series, hidden: Math.max(0, names.length - max) };
}
