/**
 * Reads a request body whole, inflating gzip or deflate on the way, and stops as soon as
 * the bytes (compressed or not) pass the limit: a gzip bomb is refused after at most
 * `maxBytes` of output, never inflated in full.
 */

/** Why a body could not be read; `status` is what the client gets. */
export class BodyError extends Error {
  override readonly name = "BodyError";
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** The request's media type without parameters, lower case (`application/json`), or "". */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

const DECODINGS: Record<string, "gzip" | "deflate"> = { gzip: "gzip", "x-gzip": "gzip", deflate: "deflate" };

/** The body's bytes after decompression; throws {@link BodyError} (413 past `maxBytes`). */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  let stream: ReadableStream<Uint8Array> = limited(request.body, maxBytes);
  if (encoding !== "identity" && encoding !== "") {
    const format = DECODINGS[encoding];
    if (format === undefined) throw new BodyError(415, `unsupported content-encoding '${encoding.slice(0, 32)}': use gzip, deflate or none`);
    stream = limited(stream.pipeThrough(new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>), maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw new BodyError(400, encoding === "identity" ? "the request body could not be read" : `the body is not valid ${encoding}`);
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, `the body is larger than ${maxBytes} bytes (after decompression)`);
}

/** Passes bytes through until more than `maxBytes` have gone by, then errors (and cancels the source). */
function limited(source: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(tooLarge(maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
}
