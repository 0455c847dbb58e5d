/** One column of a rendered table. */
export interface Column<R> {
  header: string;
  /** Numbers are right-aligned. */
  align: "left" | "right";
  value(row: R): string;
  /** Lower numbers are kept longer when the terminal is too narrow. @default 5 */
  priority?: number;
}

export interface TableOptions<R> {
  columns: Column<R>[];
  rows: R[];
  /** A last, emphasised row. */
  totals?: R;
  /** Terminal width; columns of least priority go until the table fits. */
  width?: number;
  color?: boolean;
}

const BOLD = "\u001b[1m";
const DIM = "\u001b[2m";
const RESET = "\u001b[0m";

/** Recorded names are data: a control character (ESC, a line break, BEL) is shown escaped, never sent to the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A plain text table: fits `width`, right-aligns numbers, bold header and totals when coloured. */
export function renderTable<R>(options: TableOptions<R>): string {
  const all = options.totals ? [...options.rows, options.totals] : options.rows;
  let columns = options.columns.map((column, index) => ({
    column,
    index,
    cells: all.map((row) => printable(column.value(row))),
  }));
  const widthOf = (c: (typeof columns)[number]) => Math.max(c.column.header.length, ...c.cells.map((cell) => cell.length));
  const total = () => columns.reduce((sum, c) => sum + widthOf(c), 0) + 2 * Math.max(0, columns.length - 1);
  const width = options.width ?? Number.POSITIVE_INFINITY;
  while (total() > width && columns.length > 1) {
    const dropped = columns.reduce((worst, c) => ((c.column.priority ?? 5) >= (worst.column.priority ?? 5) ? c : worst));
    columns = columns.filter((c) => c !== dropped);
  }
  const widths = columns.map(widthOf);
  const pad = (text: string, i: number) => (columns[i]!.column.align === "right" ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: string[]) => cells.map(pad).join("  ").trimEnd();
  const style = (text: string, code: string) => (options.color ? `${code}${text}${RESET}` : text);

  const out = [style(line(columns.map((c) => c.column.header)), BOLD)];
  out.push(style(widths.map((w) => "─".repeat(w)).join("  "), DIM));
  options.rows.forEach((_, r) => out.push(line(columns.map((c) => c.cells[r]!))));
  if (options.totals) {
    out.push(style(widths.map((w) => "─".repeat(w)).join("  "), DIM));
    out.push(style(line(columns.map((c) => c.cells[all.length - 1]!)), BOLD));
  }
  return `${out.join("\n")}\n`;
}
