/** A small fetch-based client for the API server unit tests. */

export interface Response<T> {
  status: number;
  body: T;
}

/** Loose JSON shape of API objects and Status bodies in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export async function call(base: string, method: string, path: string, options: { body?: unknown; contentType?: string; accept?: string } = {}): Promise<Response<Json>> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
  if (options.accept !== undefined) headers.Accept = options.accept;
  const response = await fetch(base + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Json) };
}

/** Opens a watch and collects its events until the server ends it or `stop` is called. */
export function openWatch(base: string, path: string): { events: Json[]; ended: Promise<void>; stop: () => void; headers: Promise<Headers> } {
  const events: Json[] = [];
  const controller = new AbortController();
  let resolveHeaders: (headers: Headers) => void = () => {};
  const headers = new Promise<Headers>((resolve) => (resolveHeaders = resolve));
  const ended = (async () => {
    try {
      const response = await fetch(base + path, { signal: controller.signal });
      resolveHeaders(response.headers);
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of response.body ?? []) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          events.push(JSON.parse(buffer.slice(0, newline)) as Json);
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf("\n");
        }
      }
    } catch (error) {
      if ((error as Error).name !== "AbortError") throw error;
    }
  })();
  return { events, ended, stop: () => controller.abort(), headers };
}

export function podBody(name: string, labels: Record<string, string> = {}): Json {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { containers: [{ name: "c", image: "busybox" }] } };
}
