// The bearer token verifier for Zitadel's routes (auth/zitadel-token.js).

export interface ZitadelVerifierOptions {
  /** A token's `iss` must equal it, e.g. "https://acme.zitadel.cloud" (no trailing "/"). */
  issuer: string;
  /** A token's `aud` must contain one of these (project or client ids). */
  audience: string | string[];
  /** Default `${issuer}/oauth/v2/keys`: fetched, cached, refetched on an unknown `kid` (at most once per 30 s). */
  jwksUri?: string;
  /** Opaque tokens and PATs (and JWTs, for revocation) through Zitadel's introspection endpoint. */
  introspection?: { clientId: string; clientSecret: string; endpoint?: string };
  /** Leeway for `exp` / `nbf` / `iat`, in seconds; default 0. */
  clockToleranceSeconds?: number;
  /** Default globalThis.fetch (injectable for tests). */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** The clock, milliseconds since the epoch; default Date.now (injectable for tests). */
  now?: () => number;
}

export type ZitadelVerification =
  | { ok: true; subject: string; claims: Record<string, unknown> }
  | { ok: false; reason: "missing" | "malformed" | "invalid" | "unavailable" };

export interface ZitadelVerifier {
  /** Verifies an `Authorization` header value (null when there is none). Never rejects. */
  verify(authorizationHeaderValue: string | null | undefined): Promise<ZitadelVerification>;
}

/** Throws a TypeError naming the option (`auth.zitadel.<name>`) when the options are wrong. */
export function createZitadelVerifier(options: ZitadelVerifierOptions): ZitadelVerifier;
