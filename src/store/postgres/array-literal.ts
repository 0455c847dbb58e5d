/**
 * Array parameters as PostgreSQL array literals (`{1,2,NULL}`, `{"a","b\"c"}`), made here
 * rather than by postgres.js: it passes a string bound to an array parameter through as is,
 * and its own serializer runs every element through the type's serializer and two regular
 * expressions — ~40 % of a small write's client CPU (BENCHMARKS.md, PostgreSQL, section 6).
 */
import type { ColumnValue, PgType } from "./columns.ts";

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPE_ALL = /[\\"]/g;

/** One element, quoted when text (backslash and double quote escaped), `NULL` for null. */
function element(value: ColumnValue, type: PgType): string {
  if (value === null) return "NULL";
  if (type !== "text") return String(value);
  const text = String(value);
  return `"${NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_ALL, "\\$&") : text}"`;
}

/** `values` as the literal of a one-dimensional array of `type`. */
export function arrayLiteral(values: readonly ColumnValue[], type: PgType): string {
  if (values.length === 0) return "{}";
  let literal = `{${element(values[0]!, type)}`;
  for (let i = 1; i < values.length; i++) literal += `,${element(values[i]!, type)}`;
  return `${literal}}`;
}
