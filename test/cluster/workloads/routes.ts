// The route syntax of the HTTP server workload, shared by the pod runner (which validates a
// pod's routes before it starts anything) and the workload script. Depends on nothing but
// the language, so the workload stays a plain Node script.

/** One route of the HTTP server: requests matching method and path get status and body. */
export interface HttpRoute {
  method: string;
  path: string;
  status: number;
  body: string;
}

const routePattern = /^([A-Z]+) (\/\S*) ([1-5]\d\d)(?: (.*))?$/s;

/**
 * Parses "METHOD PATH STATUS [BODY]", e.g. "POST /v1/request-landing 200 Ship landed".
 * The body is the rest of the text and may contain spaces. Raises RangeError naming the text.
 */
export function parseRoute(text: string): HttpRoute {
  const match = routePattern.exec(text.trim());
  if (match === null) {
    throw new RangeError(`invalid route ${JSON.stringify(text)}: write "METHOD PATH STATUS [BODY]", for example "POST /v1/request-landing 200 Ship landed"`);
  }
  const [, method = "", path = "", status = "", body = ""] = match;
  return { method, path, status: Number(status), body };
}

/** Returns the text form of a route that parseRoute reads back. */
export function formatRoute(route: HttpRoute): string {
  return route.body === "" ? `${route.method} ${route.path} ${route.status}` : `${route.method} ${route.path} ${route.status} ${route.body}`;
}

/** Parses a comma-separated port list such as "80,81". Raises RangeError for a value outside 1-65535. */
export function parsePortList(text: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((part) => {
    const port = Number(part.trim());
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`invalid port ${JSON.stringify(part.trim())} in ${JSON.stringify(text)}: use integers from 1 to 65535 separated by commas`);
    }
    return port;
  });
}
