/**
 * The store-independent report contract on PostgreSQL: on the server `npm test` starts (skipped,
 * with the reason, without one), and on PGlite, which needs no server, so the contract runs
 * against PostgreSQL's SQL wherever the tests run.
 */
import { afterAll, describe, test } from "bun:test";
import { reportContract } from "../contract/report-contract.ts";
import { closeStores, openPgliteStore, openTestStore, SKIP_REASON } from "./harness.ts";

afterAll(closeStores);

reportContract({
  name: "postgres",
  describe: SKIP_REASON === null ? describe : describe.skip,
  test,
  openStore: async (now) => {
    const store = openTestStore({ now });
    await store.ready;
    return store;
  },
});

reportContract({
  name: "postgres on PGlite",
  describe,
  // A PGlite database takes a few seconds to start (WebAssembly): more than bun's 5 s default with a test's own work.
  test: (name, body) => test(name, async () => { await body(); }, 60_000),
  openStore: async (now) => {
    const store = await openPgliteStore({ now });
    await store.ready;
    return store;
  },
});
