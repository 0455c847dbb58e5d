/**
 * Prometheus metrics of one server (its own registry, so two servers in one process never
 * mix). Labels are bounded: routes are the app's route patterns, never a repo, model,
 * session or any other value a client chooses.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "tally_http_requests_total",
    help: "HTTP requests by route pattern and status code",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: "tally_ingest_records_total",
    help: "Records received by kind and outcome (accepted, duplicate, invalid, refused)",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly turnedAway = new Counter({
    name: "tally_ingest_requests_refused_total",
    help: "Ingest requests refused before their records were taken, by reason (queue_full, store_unavailable, too_large, bad_request)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly writeSeconds = new Histogram({
    name: "tally_store_write_seconds",
    help: "Time to commit one batch to the store",
    labelNames: ["result"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly queueDepth: Gauge;

  constructor(depth: () => number) {
    this.queueDepth = new Gauge({
      name: "tally_ingest_queue_records",
      help: "Records waiting to be committed",
      registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
  }
}
