import { afterAll, describe, test } from "bun:test";
import { reportContract } from "../contract/report-contract.ts";
import { closeStores, openTestStore, SKIP_REASON } from "./harness.ts";

afterAll(closeStores);

reportContract({
  name: "postgres",
  describe: SKIP_REASON === null ? describe : describe.skip,
  test,
  openStore: async () => {
    const store = openTestStore();
    await store.ready;
    return store;
  },
});
