import { describe, expect, test } from "bun:test";
import { deliveryContext, MAX_HEADER_LENGTH, type DeliveryContext } from "../../src/capture/github/index.ts";
import type { AgentRunContext } from "../../src/capture/claude-agent/index.ts";
import {
  headers,
  issueCommentOnIssue,
  issueCommentOnPullRequest,
  ping,
  pullRequestOpened,
  pullRequestReadyForReview,
  pullRequestSynchronize,
  push,
} from "./payloads.ts";

const DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

describe("deliveryContext: real deliveries", () => {
  const cases: [string, string, object, DeliveryContext][] = [
    ["pull_request opened", "pull_request", pullRequestOpened, { eventType: "pull_request.opened", repo: "octo-org/app", prNumber: 42 }],
    ["pull_request synchronize", "pull_request", pullRequestSynchronize, { eventType: "pull_request.synchronize", repo: "octo-org/app", prNumber: 42 }],
    [
      "pull_request ready_for_review",
      "pull_request",
      pullRequestReadyForReview,
      { eventType: "pull_request.ready_for_review", repo: "octo-org/app", prNumber: 42 },
    ],
    ["issue_comment on a pull request", "issue_comment", issueCommentOnPullRequest, { eventType: "issue_comment.created", repo: "octo-org/app", prNumber: 42 }],
    ["issue_comment on an issue: no PR number", "issue_comment", issueCommentOnIssue, { eventType: "issue_comment.created", repo: "octo-org/app" }],
    ["push: no action, no PR", "push", push, { eventType: "push", repo: "octo-org/app" }],
    ["ping: no action, no repository", "ping", ping, { eventType: "ping" }],
  ];
  for (const [name, event, payload, expected] of cases) {
    test(name, () => {
      expect(deliveryContext({ headers: headers(event, DELIVERY), payload })).toEqual({ deliveryId: DELIVERY, ...expected });
    });
  }

  test("a Web Headers instance (Hono, fetch) and any header case give the same context", () => {
    const expected = { deliveryId: DELIVERY, eventType: "pull_request.opened", repo: "octo-org/app", prNumber: 42 };
    const web = new Headers({ "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": DELIVERY });
    expect(deliveryContext({ headers: web, payload: pullRequestOpened })).toEqual(expected);
    for (const [eventKey, deliveryKey] of [
      ["X-GitHub-Event", "X-GitHub-Delivery"],
      ["X-GITHUB-EVENT", "x-GiThUb-DeLiVeRy"],
    ] as const) {
      expect(deliveryContext({ headers: { [eventKey]: "pull_request", [deliveryKey]: DELIVERY }, payload: pullRequestOpened })).toEqual(expected);
    }
  });

  test("the result is an AgentRunContext, ready for instrumentQuery", () => {
    const context: AgentRunContext = { ...deliveryContext({ headers: headers("pull_request", DELIVERY), payload: pullRequestOpened }), model: "claude-sonnet-4-5" };
    expect(context).toMatchObject({ deliveryId: DELIVERY, model: "claude-sonnet-4-5" });
  });
});

describe("deliveryContext: hostile input gives a partial context, never a throw", () => {
  const huge = "x".repeat(1_000_000);
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error("trap");
      },
      ownKeys() {
        throw new Error("trap");
      },
      has() {
        throw new Error("trap");
      },
      getOwnPropertyDescriptor() {
        throw new Error("trap");
      },
    },
  );
  const cases: [string, unknown, DeliveryContext][] = [
    ["no input", undefined, {}],
    ["null input", null, {}],
    ["a string", "pull_request", {}],
    ["no headers", { payload: pullRequestOpened }, { repo: "octo-org/app", prNumber: 42 }],
    ["headers null", { headers: null, payload: pullRequestOpened }, { repo: "octo-org/app", prNumber: 42 }],
    ["headers a string", { headers: "x-github-event: push", payload: push }, { repo: "octo-org/app" }],
    ["header values of the wrong type", { headers: { "x-github-event": 7, "x-github-delivery": { id: 1 } }, payload: push }, { repo: "octo-org/app" }],
    ["a repeated header (array): the first", { headers: { "x-github-event": ["push", "ping"], "x-github-delivery": [DELIVERY] }, payload: push }, { deliveryId: DELIVERY, eventType: "push", repo: "octo-org/app" }],
    ["empty and blank headers", { headers: { "x-github-event": "", "x-github-delivery": "   " }, payload: push }, { repo: "octo-org/app" }],
    ["a huge delivery id", { headers: { "x-github-event": "push", "x-github-delivery": huge }, payload: push }, { eventType: "push", repo: "octo-org/app" }],
    ["an event name that is not one", { headers: { "x-github-event": "pull_request\nx-injected: 1", "x-github-delivery": DELIVERY }, payload: pullRequestOpened }, { deliveryId: DELIVERY, repo: "octo-org/app", prNumber: 42 }],
    ["an odd action is left out", { headers: headers("pull_request", DELIVERY), payload: { ...pullRequestOpened, action: huge } }, { deliveryId: DELIVERY, eventType: "pull_request", repo: "octo-org/app", prNumber: 42 }],
    ["a non-string action is left out", { headers: headers("pull_request", DELIVERY), payload: { ...pullRequestOpened, action: 5 } }, { deliveryId: DELIVERY, eventType: "pull_request", repo: "octo-org/app", prNumber: 42 }],
    ["payload null", { headers: headers("push", DELIVERY), payload: null }, { deliveryId: DELIVERY, eventType: "push" }],
    ["payload an array", { headers: headers("push", DELIVERY), payload: [push] }, { deliveryId: DELIVERY, eventType: "push" }],
    ["payload the raw string", { headers: headers("push", DELIVERY), payload: JSON.stringify(push) }, { deliveryId: DELIVERY, eventType: "push" }],
    ["a huge repository name", { headers: headers("push", DELIVERY), payload: { repository: { full_name: huge } } }, { deliveryId: DELIVERY, eventType: "push" }],
    ["repository name not a string", { headers: headers("push", DELIVERY), payload: { repository: { full_name: ["octo-org", "app"] } } }, { deliveryId: DELIVERY, eventType: "push" }],
    ...(["42", -1, 0, 4.2, Number.MAX_VALUE, null] as unknown[]).map((number): [string, unknown, DeliveryContext] => [
      `PR number ${String(number)}`,
      { headers: headers("pull_request", DELIVERY), payload: { action: "opened", pull_request: { number } } },
      { deliveryId: DELIVERY, eventType: "pull_request.opened" },
    ]),
    ["an issue whose pull_request link is not an object", { headers: headers("issue_comment", DELIVERY), payload: { action: "created", issue: { number: 9, pull_request: "yes" } } }, { deliveryId: DELIVERY, eventType: "issue_comment.created" }],
    ["headers that throw", { headers: throwing, payload: push }, { repo: "octo-org/app" }],
    ["a payload that throws", { headers: headers("push", DELIVERY), payload: throwing }, { deliveryId: DELIVERY, eventType: "push" }],
    ["an input that throws", throwing, {}],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      expect(deliveryContext(input as Parameters<typeof deliveryContext>[0])).toEqual(expected);
    });
  }

  test(`header values are capped at ${MAX_HEADER_LENGTH} characters`, () => {
    const longest = "d".repeat(MAX_HEADER_LENGTH);
    expect(deliveryContext({ headers: { "x-github-delivery": longest } }).deliveryId).toBe(longest);
    expect(deliveryContext({ headers: { "x-github-delivery": `${longest}d` } }).deliveryId).toBeUndefined();
  });
});
