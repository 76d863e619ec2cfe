/**
 * Accept header negotiation between plain JSON and the meta.k8s.io Table
 * form. Protobuf and the PartialObjectMetadata forms are not offered, so a
 * client that lists them first falls through to the next media range.
 */

import { ApiStatusError } from "./status.ts";

export type ResponseForm = { kind: "json" } | { kind: "table"; apiVersion: string };

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const [type = "", ...rest] = part.split(";").map((item) => item.trim());
      const params = new Map<string, string>();
      for (const item of rest) {
        const eq = item.indexOf("=");
        if (eq > 0) params.set(item.slice(0, eq).toLowerCase(), item.slice(eq + 1));
      }
      return { type: type.toLowerCase(), params };
    });
}

/** Picks the response form for an Accept header; throws 406 when no offered form is acceptable. */
export function negotiate(accept: string | undefined): ResponseForm {
  if (accept === undefined || accept.trim() === "") {
    return { kind: "json" };
  }
  for (const range of parseAccept(accept)) {
    const jsonLike = range.type === "application/json" || range.type === "application/*" || range.type === "*/*";
    if (!jsonLike) continue;
    const as = range.params.get("as");
    if (as === undefined) {
      return { kind: "json" };
    }
    const group = range.params.get("g");
    const version = range.params.get("v");
    if (as === "Table" && group === "meta.k8s.io" && (version === "v1" || version === "v1beta1")) {
      return { kind: "table", apiVersion: `meta.k8s.io/${version}` };
    }
  }
  throw new ApiStatusError({
    code: 406,
    reason: "NotAcceptable",
    message: `only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io (got "${accept}")`,
  });
}
