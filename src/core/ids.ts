import { uuidv7 } from "uuidv7";

/** A new time-ordered record id (UUIDv7), made when a record is first flushed. */
export function newRecordId(): string {
  return uuidv7();
}
