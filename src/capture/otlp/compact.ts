/** A record without the fields left undefined, so records compare and serialise cleanly. */
export function compact(record: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record;
}
