import { MAX_HEADER_LENGTH, readHeader, type HeadersInput } from "./read-header.ts";

/** Who a run is for, from a GitHub webhook delivery. Assignable to `AgentRunContext`. */
export interface DeliveryContext {
  /** `X-GitHub-Delivery`: the delivery GUID, the same on a redelivery. */
  deliveryId?: string;
  /** `X-GitHub-Event` and the payload's `action`: `pull_request.opened`, `push`, … */
  eventType?: string;
  /** `payload.repository.full_name`, e.g. `octo-org/app`. */
  repo?: string;
  /** The pull request's number; an issue's number when the issue is a pull request. */
  prNumber?: number;
}

/** What {@link deliveryContext} reads. */
export interface DeliveryInput {
  headers?: HeadersInput;
  /** The parsed JSON body. */
  payload?: unknown;
}

/** Event and action names are short identifiers; anything else is not GitHub's. */
const NAME = /^[a-z0-9_.-]{1,64}$/i;

function isName(value: unknown): value is string {
  return typeof value === "string" && value.length <= 64 && NAME.test(value);
}

/** `value[key]` for an object, else undefined; a throwing getter or proxy reads as undefined. */
function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function positiveInteger(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined;
}

function shortString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_HEADER_LENGTH ? value : undefined;
}

/**
 * The identity of a webhook delivery: delivery id, `event.action` type, repository and
 * pull request number. Fields that are missing or malformed are left out; it never throws.
 *
 * @example
 * deliveryContext({ headers: request.headers, payload: await request.json() })
 * // → { deliveryId: "72d3162e-…", eventType: "pull_request.opened", repo: "octo-org/app", prNumber: 42 }
 */
export function deliveryContext(input: DeliveryInput): DeliveryContext {
  const context: DeliveryContext = {};
  try {
    const headers = field(input, "headers");
    const payload = field(input, "payload");
    const deliveryId = readHeader(headers, "x-github-delivery");
    if (deliveryId !== undefined) context.deliveryId = deliveryId;
    const event = readHeader(headers, "x-github-event");
    if (isName(event)) {
      const action = field(payload, "action");
      context.eventType = isName(action) ? `${event}.${action}` : event;
    }
    const repo = shortString(field(field(payload, "repository"), "full_name"));
    if (repo !== undefined) context.repo = repo;
    const prNumber = pullRequestNumber(payload);
    if (prNumber !== undefined) context.prNumber = prNumber;
  } catch {
    // Unreachable by design (every read is guarded); kept so no input can make this throw.
  }
  return context;
}

/** `pull_request.number`, or `issue.number` when the issue is a pull request (it has `pull_request`). */
function pullRequestNumber(payload: unknown): number | undefined {
  const fromPullRequest = positiveInteger(field(field(payload, "pull_request"), "number"));
  if (fromPullRequest !== undefined) return fromPullRequest;
  const issue = field(payload, "issue");
  const linked = field(issue, "pull_request");
  return typeof linked === "object" && linked !== null ? positiveInteger(field(issue, "number")) : undefined;
}
