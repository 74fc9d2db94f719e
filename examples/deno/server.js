// identity-links with Deno.serve: Camunda's and Zitadel's routes, answered from a snapshot in
// wasm memory. Run: deno run --allow-net --allow-read --allow-env server.js
// (On Deno Deploy, import from "npm:identity-links".) Environment: SNAPSHOT (a JSON or binary
// snapshot file; default the demo's sample), HOST (default 127.0.0.1), PORT (default 8000).
import { Snapshot, handleRequest } from "identity-links";

const path = Deno.env.get("SNAPSHOT") ?? new URL("../../www/sample-snapshot.json", import.meta.url);
const bytes = await Deno.readFile(path);
const isBinary = new TextDecoder().decode(bytes.subarray(0, 8)) === "IDLINKS\0";
const snapshot = isBinary ? Snapshot.fromBytes(bytes) : Snapshot.fromJson(bytes);

Deno.serve(
  { hostname: Deno.env.get("HOST") ?? "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) },
  // No caller context: full rights. Put it behind your authentication, or pass `{ caller }`.
  (request) => handleRequest(snapshot, request, undefined, { auth: "trusted" }),
);
