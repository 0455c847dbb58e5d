/**
 * OTLP/HTTP failures carry a google.rpc.Status in the request's encoding (the specification's
 * "MUST"), with the gRPC code that matches the HTTP status.
 */
import { afterEach, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { StatusSchema } from "../../src/capture/otlp/generated/google/rpc/status_pb.ts";
import { createServerApp } from "../../src/server/app.ts";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqlite/index.ts";
import { tempDir } from "../support/temp-dir.ts";

const stores: SqliteStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function app() {
  const store = openSqliteStore({ path: join(tempDir(), "tally.db"), retentionDays: 0 });
  stores.push(store);
  return createServerApp({ store, maxBodyBytes: 64 * 1024 }).app;
}

test("a malformed JSON body: 400 with a JSON Status (code 3, INVALID_ARGUMENT)", async () => {
  const response = await app().request("/v1/traces", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
  expect(response.status).toBe(400);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const status = (await response.json()) as { code: number; message: string };
  expect(status.code).toBe(3);
  expect(status.message.length).toBeGreaterThan(0);
});

test("a malformed protobuf body: 400 with a protobuf Status", async () => {
  const response = await app().request("/v1/logs", { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]) });
  expect(response.status).toBe(400);
  expect(response.headers.get("content-type")).toBe("application/x-protobuf");
  const status = fromBinary(StatusSchema, new Uint8Array(await response.arrayBuffer()));
  expect(status.code).toBe(3);
  expect(status.message).toMatch(/protobuf/);
});

test("a gzip bomb: 413 with a protobuf Status (code 8, RESOURCE_EXHAUSTED)", async () => {
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  const response = await app().request("/v1/metrics", { method: "POST", headers: { "content-type": "application/x-protobuf", "content-encoding": "gzip" }, body: bomb });
  expect(response.status).toBe(413);
  expect(fromBinary(StatusSchema, new Uint8Array(await response.arrayBuffer())).code).toBe(8);
});
