import { uuidv7 } from "uuidv7";

/**
 * Bun's native UUIDv7 when the runtime has it (~0.15 µs against ~0.6 µs for the package),
 * found by feature detection: the core imports no runtime module.
 */
const nativeUuidv7 = (globalThis as { Bun?: { randomUUIDv7?: () => string } }).Bun?.randomUUIDv7;

/** A new time-ordered record id (UUIDv7), made when a record is first flushed. */
export const newRecordId: () => string = typeof nativeUuidv7 === "function" ? () => nativeUuidv7() : uuidv7;
