export { openHttpStore, type HttpStore, type HttpStoreOptions } from "./http-store.ts";
