// Where a request carries its token (SPEC §5): a `token` or `owl_token` field, or an
// `Authorization: Bearer` header, in that order; and the token check every route plugin shares.

import type { TokenService } from "../../auth/tokens.ts";

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export function tokenFromRequest(request: Request, fields: Record<string, unknown>): string | undefined {
  // An empty field counts as absent (a form that always sends `token=` must not hide the others).
  if (typeof fields.token === "string" && fields.token !== "") return fields.token;
  if (typeof fields.owl_token === "string" && fields.owl_token !== "") return fields.owl_token;
  const header = request.headers.get("authorization");
  if (header) {
    const match = BEARER.exec(header);
    if (match) return match[1];
  }
  return undefined;
}

/** True when the request carries a valid token issued to `clientAddress`. */
export type CheckToken = (request: Request, clientAddress: string, fields: Record<string, unknown>) => Promise<boolean>;

export function makeTokenCheck(tokens: TokenService): CheckToken {
  return (request, clientAddress, fields) => tokens.verify(tokenFromRequest(request, fields), clientAddress);
}
