/**
 * Signs and posts a sample `pull_request.opened` delivery to the running bot:
 *   WEBHOOK_SECRET=dev-secret bun examples/review-bot/send-test-webhook.ts [url]
 */
import { sign } from "@octokit/webhooks-methods";
import { pullRequestOpened } from "./sample-payloads.ts";

const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 3000}/webhooks`;
const body = JSON.stringify(pullRequestOpened());
const response = await fetch(url, {
  method: "POST",
  headers: {
    "content-type": "application/json",
    "x-github-event": "pull_request",
    "x-github-delivery": crypto.randomUUID(),
    "x-hub-signature-256": await sign(process.env.WEBHOOK_SECRET ?? "", body),
  },
  body,
});
console.log(response.status, await response.text());
