/**
 * GitHub webhook deliveries as run identity: delivery id, `event.action`, repository and pull
 * request number, for `AgentRunContext` and rate-limit events. No dependency on Octokit.
 * @module tally/github
 */
export { deliveryContext, type DeliveryContext, type DeliveryInput } from "./delivery-context.ts";
export { readHeader, MAX_HEADER_LENGTH, type HeadersInput } from "./read-header.ts";
