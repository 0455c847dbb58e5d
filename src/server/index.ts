export { createServerApp, type ServerApp } from "./app.ts";
export type { ServerAppOptions } from "./options.ts";
export { startServer, isLoopback, type RunningServer, type StartServerOptions } from "./start.ts";
