// identity-links/node: handleRequest behind node:http and node:http2 servers.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { CallContext, HandlerOptions, Snapshot } from "../index.js";

/** How the listener serves. */
export interface NodeListenerSettings {
  /**
   * With `auth: "trusted"` only: the caller context of every request, or a function of the
   * request returning it (one that returns nothing is refused, never full rights).
   */
  context?: CallContext | ((req: IncomingMessage | Http2ServerRequest) => CallContext | null | undefined | Promise<CallContext | null | undefined>);
  /** handleRequest's options: `auth` (required), engines, CORS, the body limit; all checked when the listener is made (a `UsageError` naming a bad one). */
  options: HandlerOptions;
  /** How long a request body may send nothing before the request is answered 408 (default 30,000 ms). */
  idleTimeoutMs?: number;
}

/**
 * A `(req, res) => void` for `http.createServer`, `https.createServer`, `http2.createServer` or
 * `http2.createSecureServer` (compatibility API) serving every route of `handleRequest`, and
 * gRPC over HTTP/2 with its trailers (`@zitadel/client/node`'s `createServerTransport`).
 * `source`: the snapshot, or a function returning the current one (or a promise of it).
 */
export function createNodeListener(
  source: Snapshot | (() => Snapshot | Promise<Snapshot>),
  settings: NodeListenerSettings,
): (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;
