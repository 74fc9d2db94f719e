// The Node listener (`identity-links/node`): handleRequest behind `node:http` and `node:http2`
// servers (the compatibility API), with what a fetch Response cannot do — gRPC's trailers over
// HTTP/2 — and what a server must do: the body limit while reading, an idle timeout, and an
// answer for every request. Written once here; node/listener.mjs and node/listener.cjs bind it to
// the package's instance.
import { Readable } from "node:stream";

/** api.js's keys for handleRequest's variant with trailers and its options' check (Symbol.for: the same in every copy). */
const WITH_TRAILERS = Symbol.for("identity-links.handleRequestWithTrailers");
const CHECK_OPTIONS = Symbol.for("identity-links.checkHandlerOptions");

/** `createNodeListener` over the package's API (`handleRequest`). */
export function listenerFor({ handleRequest }) {
  /**
   * A `(req, res) => void` for `http.createServer`, `https.createServer`,
   * `http2.createServer` or `http2.createSecureServer`.
   * `source`: a Snapshot, or a function returning the current one (or a promise of it).
   * `settings.context`: a CallContext, or a function of the request returning one.
   * `settings.options`: handleRequest's options. `settings.idleTimeoutMs`: how long a body may
   * send nothing before the request is given up (408; default 30 s).
   */
  return function createNodeListener(source, settings = {}) {
    const { context, options, idleTimeoutMs = 30_000 } = settings;
    // Refused now, not at the first request: no `options.auth`, AuthOptions with a context, a
    // bad option (the module's own check).
    handleRequest[CHECK_OPTIONS](options, context);
    const current = typeof source === "function" ? source : () => source;
    return (req, res) => {
      serve(req, res).catch((error) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: String(error?.message ?? error) }));
        } else {
          res.destroy(error);
        }
      });
    };

    async function serve(req, res) {
      const snapshot = await current();
      const http2 = req.httpVersionMajor === 2;
      const authority = req.headers[":authority"] ?? req.headers.host ?? "localhost";
      const scheme = req.headers[":scheme"] ?? (req.socket?.encrypted ? "https" : "http");
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith(":") || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v));
      }
      // The idle timeout: restarted by every chunk of the body, it aborts the request.
      const abort = new AbortController();
      let timer;
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => abort.abort(new Error(`no request body data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      };
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const body = hasBody ? Readable.toWeb(req).pipeThrough(new TransformStream({ transform: (chunk, out) => (idle(), out.enqueue(chunk)) })) : undefined;
      if (hasBody) idle();
      const request = new Request(`${scheme}://${authority}${req.url}`, { method: req.method, headers, body, duplex: "half", signal: abort.signal });
      let response;
      let trailers = [];
      try {
        // A context function that finds nobody gives null, which is refused: never full rights.
        const caller = typeof context === "function" ? ((await context(req)) ?? null) : context;
        // Over HTTP/2 the variant that gives gRPC's trailers beside the Response (api.js).
        if (http2) ({ response, trailers } = await handleRequest[WITH_TRAILERS](snapshot, request, caller, options));
        else response = await handleRequest(snapshot, request, caller, options);
      } catch (error) {
        if (error?.name !== "AbortError") throw error;
        res.writeHead(408, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ message: error.cause?.message ?? "request aborted" }));
        req.destroy?.();
        return;
      } finally {
        clearTimeout(timer);
      }
      const out = {};
      response.headers.forEach((value, name) => (out[name] = value));
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (trailers.length > 0 && bytes.length === 0 && res.stream) {
        // A gRPC answer with no message (every refusal) is "Trailers-Only": one HEADERS frame
        // that carries grpc-status and ends the stream, as grpc-go writes it (http2_server.go,
        // writeStatus before any header was sent) — the compatibility API would send the headers,
        // then an empty frame with the trailers.
        res.stream.respond({ ":status": response.status, ...out, ...Object.fromEntries(trailers) }, { endStream: true });
        return;
      }
      res.writeHead(response.status, out);
      // gRPC's status after the body (HTTP/2 only: the module writes trailers only then).
      if (trailers.length > 0) res.addTrailers(Object.fromEntries(trailers));
      res.end(bytes);
    }
  };
}
