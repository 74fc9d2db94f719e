// identity-links with Deno.serve: Camunda's and Zitadel's routes, answered from a snapshot in
// wasm memory. Run: deno run --allow-net --allow-read --allow-env server.js
// (On Deno Deploy, import from "npm:identity-links".)
//
// Environment:
//   SNAPSHOT   a JSON or binary snapshot file (default: the demo's sample)
//   HOST, PORT default 127.0.0.1 and 8000
// Who may call (one of the two is required; without either the server refuses to start):
//   ZITADEL_ISSUER    e.g. https://acme.zitadel.cloud: Zitadel's routes answer callers with a
//                     valid access token of this issuer (docs/auth.md)
//   ZITADEL_AUDIENCE  the project or client ids a token's `aud` must contain, comma-separated
//   ZITADEL_JWKS_URI  optional, default `${ZITADEL_ISSUER}/oauth/v2/keys`
//   ZITADEL_INTROSPECTION_CLIENT_ID, ZITADEL_INTROSPECTION_CLIENT_SECRET (and optionally
//   ZITADEL_INTROSPECTION_ENDPOINT): opaque tokens and PATs, and revocation (docs/auth.md, N4)
//   CAMUNDA_USER_CLAIM  optional: Camunda's routes answer the user named by this claim of the
//                     verified token (e.g. preferred_username); without it they answer 401
//   AUTH=trusted      instead: every request with full rights, for a server behind your own
//                     authenticating gateway only
import { Snapshot, handleRequest } from "identity-links";

/** The handler's `auth` from the environment; exits with a message when nothing says who may call. */
function authFromEnvironment(env) {
  const get = (name) => env.get(name)?.trim() || undefined;
  if (get("AUTH") === "trusted") {
    console.warn("identity-links: AUTH=trusted: every request is answered with full rights (put this server behind your own authentication)");
    return "trusted";
  }
  if (get("AUTH") !== undefined) throw new Error(`AUTH must be "trusted" or unset, found ${JSON.stringify(get("AUTH"))}`);
  const issuer = get("ZITADEL_ISSUER");
  if (issuer === undefined) {
    console.error(
      "identity-links: refusing to start: nothing says who may call.\n" +
        "  Set ZITADEL_ISSUER and ZITADEL_AUDIENCE to verify Zitadel access tokens (CAMUNDA_USER_CLAIM for Camunda's routes),\n" +
        "  or AUTH=trusted to answer every request with full rights behind your own gateway.",
    );
    Deno.exit(1);
  }
  const audience = get("ZITADEL_AUDIENCE")?.split(",").map((a) => a.trim()).filter(Boolean) ?? [];
  if (audience.length === 0) throw new Error("ZITADEL_AUDIENCE is required with ZITADEL_ISSUER: the project or client ids a token must be issued for");
  const zitadel = { issuer, audience };
  if (get("ZITADEL_JWKS_URI")) zitadel.jwksUri = get("ZITADEL_JWKS_URI");
  if (get("ZITADEL_INTROSPECTION_CLIENT_ID")) {
    zitadel.introspection = { clientId: get("ZITADEL_INTROSPECTION_CLIENT_ID"), clientSecret: get("ZITADEL_INTROSPECTION_CLIENT_SECRET") ?? "" };
    if (get("ZITADEL_INTROSPECTION_ENDPOINT")) zitadel.introspection.endpoint = get("ZITADEL_INTROSPECTION_ENDPOINT");
  }
  const claim = get("CAMUNDA_USER_CLAIM");
  return claim ? { zitadel, camunda: { zitadelClaim: claim } } : { zitadel };
}

// Made once: the verifier's key set cache lives as long as this object.
const options = { auth: authFromEnvironment(Deno.env) };

const path = Deno.env.get("SNAPSHOT") ?? new URL("../../www/sample-snapshot.json", import.meta.url);
const bytes = await Deno.readFile(path);
const isBinary = new TextDecoder().decode(bytes.subarray(0, 8)) === "IDLINKS\0";
const snapshot = isBinary ? Snapshot.fromBytes(bytes) : Snapshot.fromJson(bytes);

// The options checked now rather than at the first request (a request no route matches).
await handleRequest(snapshot, new Request("http://localhost/"), undefined, options).catch((error) => {
  console.error(`identity-links: refusing to start: ${error.message}`);
  Deno.exit(1);
});

Deno.serve(
  { hostname: Deno.env.get("HOST") ?? "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) },
  (request) => handleRequest(snapshot, request, undefined, options),
);
