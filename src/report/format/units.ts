/** Human formats for the CLI and dashboard; JSON and CSV always carry the raw numbers. */

/** Made on first use: creating it loads ICU data (~6 ms), which `--json` runs never need. */
let grouped: Intl.NumberFormat | undefined;
/** Two decimals, grouped: made once (a `toLocaleString` with options builds a formatter per call). */
let cents: Intl.NumberFormat | undefined;

/** `$1,234.56`; below a dollar, four significant digits so $0.0081 does not read as $0.01. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (Math.abs(usd) >= 1) return `$${(cents ??= new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })).format(usd)}`;
  return `$${usd.toPrecision(4).replace(/0+$/, "").replace(/\.$/, "")}`;
}

/** `987`, `12.3K`, `4.56M`, `1.2B`. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs < 10_000) return (grouped ??= new Intl.NumberFormat("en-US")).format(Math.round(n));
  for (const [size, suffix] of [[1e9, "B"], [1e6, "M"], [1e3, "K"]] as const) {
    if (abs >= size) {
      const value = n / size;
      return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)}${suffix}`;
    }
  }
  return String(n);
}

/** `320ms`, `41.0s`, `2m 03s`, `1h 05m`; `-` for none. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
  return `${Math.floor(ms / 3_600_000)}h ${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, "0")}m`;
}

/** `12.5%`; `-` for none. */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "-";
  return `${(ratio * 100).toFixed(ratio < 0.1 && ratio > 0 ? 2 : 1)}%`;
}

/** `1.2 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
