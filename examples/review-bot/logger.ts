import type { Logger } from "../../src/index.ts";

/** One JSON line per message on stderr; pino-shaped, so Tally can log through it too. */
export function jsonLogger(): Logger {
  const line = (level: string) => (obj: object, msg?: string) => {
    console.error(JSON.stringify({ level, time: new Date().toISOString(), msg, ...obj }));
  };
  return { error: line("error"), warn: line("warn"), info: line("info"), debug: () => {} };
}

/** Discards everything; the default when no logger is given. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
