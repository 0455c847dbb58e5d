/** What the bot posts: a review summary on a pull request, or a reply on an issue or pull request. */
export interface Publication {
  kind: "review" | "comment";
  /** `owner/name`. */
  repo: string;
  /** The pull request or issue number. */
  number: number;
  body: string;
  /** The webhook delivery this answers, for logs. */
  deliveryId: string;
}

/** Where publications go: GitHub in production, stdout offline, an array in tests. */
export interface Publisher {
  publish(publication: Publication): Promise<void>;
}

/** Prints what it would post. */
export function printingPublisher(): Publisher {
  return {
    async publish({ kind, repo, number, body, deliveryId }) {
      console.log(`--- would post a ${kind} on ${repo}#${number} (delivery ${deliveryId}) ---\n${body}\n---`);
    },
  };
}
