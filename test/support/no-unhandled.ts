import { afterEach, beforeEach, expect } from "bun:test";

/**
 * Fails the calling file's tests if Tally let a promise rejection reach the host. (bun test
 * also fails a test on an unhandled rejection; this states the guarantee where it is tested.)
 */
export function expectNoUnhandledRejections(): void {
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  beforeEach(() => {
    unhandled = [];
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
  });
}
