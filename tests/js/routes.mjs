// Every route of handleRequest, sent over real HTTP to a running example (workerd, Deno.serve),
// and compared with the same request answered in-process by the package in Node.
import { readFileSync } from "node:fs";
import { connect } from "node:net";

/** [method, path, body?, content-type?] for every route, answers and errors. */
export const ROUTES = [
  ["GET", "/task/approve-invoice-1001/identity-links"],
  ["GET", "/engine-rest/task/approve-invoice-1001/identity-links?type=candidate"],
  ["GET", "/engine-rest/task/fix-incident-9001/identity-links?type=watcher"],
  ["GET", "/engine-rest/task/no-such-task/identity-links"],
  ["GET", "/identity/groups?userId=demo"],
  ["GET", "/engine-rest/identity/groups?userId=svc-importer"],
  ["GET", "/engine-rest/identity/groups"],
  ["POST", "/v2/users/demo/links/_search", '{"query":{"limit":2,"asc":true}}', "application/json"],
  ["POST", "/v2/users/demo/links/_search", '{"query":{"offset":"-1"}}', "application/json"],
  ["POST", "/zitadel.user.v2.UserService/ListIDPLinks", '{"userId":"mary"}', "application/json"],
  ["POST", "/zitadel.user.v2.UserService/ListIDPLinks", '{"userId":"demo","query":{"limit":5000}}', "application/json"],
  ["GET", "/no/such/route"],
  ["PUT", "/identity/groups?userId=demo", "{}", "application/json"],
];

/** Checks every route against `base` (e.g. http://127.0.0.1:8787); returns a runtime result. */
export async function checkRoutes(runtime, base, api, samplePath) {
  const sample = api.Snapshot.fromJson(readFileSync(samplePath));
  const failures = [];
  let passed = 0;
  for (const [method, path, body, type] of ROUTES) {
    const init = { method, body, headers: type ? { "content-type": type } : {} };
    const want = await api.handleRequest(sample, new Request(`http://in-process${path}`, init), undefined, { auth: "trusted" });
    const wantBody = await want.text();
    let got;
    let gotBody;
    try {
      got = await fetch(`${base}${path}`, init);
      gotBody = await got.text();
    } catch (e) {
      failures.push(`${method} ${path}: ${e}`);
      continue;
    }
    const same = got.status === want.status && gotBody === wantBody && got.headers.get("content-type") === "application/json" && got.headers.get("allow") === want.headers.get("allow");
    if (same) passed++;
    else failures.push(`${method} ${path}: got ${got.status} ${gotBody}\n  expected ${want.status} ${wantBody}`);
  }
  // The in-process answers themselves are the API's answers.
  const links = await (await api.handleRequest(sample, new Request("http://x/task/approve-invoice-1001/identity-links"), undefined, { auth: "trusted" })).text();
  if (links === JSON.stringify(sample.getIdentityLinks({ taskId: "approve-invoice-1001" }))) passed++;
  else failures.push("handleRequest's body differs from getIdentityLinks");
  // A chunked body with no Content-Length, far over the limit: the server stops reading it — it
  // answers 413, or (when it closes the connection on the unread rest, a TCP reset can discard
  // that answer on the way) it closes before the whole body is sent — and lives on.
  const flood = await chunkedFlood(`${base}/zitadel.user.v2.UserService/ListIDPLinks`, 64 << 20);
  if (flood.status === 413 || (flood.status === undefined && flood.sent < 64 << 20)) passed++;
  else failures.push(`a 64 MiB chunked POST: ${flood.error ?? `status ${flood.status} ${flood.body}`}`);
  const after = await fetch(`${base}/identity/groups?userId=demo`).then((r) => r.status, (e) => String(e));
  if (after === 200) passed++;
  else failures.push(`after the chunked POST the server answers ${after}`);
  sample.free();
  return { runtime, passed, failed: failures.length, failures };
}

/**
 * POSTs up to `limit` bytes in 64 KiB chunks (Transfer-Encoding: chunked, no Content-Length)
 * over a raw socket, stopping as soon as the answer starts; resolves with its status and body.
 * A raw socket keeps what arrived even when the server closes the connection while the body is
 * still being sent (the write then fails, the answer is there all the same).
 */
function chunkedFlood(url, limit) {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
    let received = "";
    let sent = 0;
    const finish = () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0);
      const body = received.slice(received.indexOf("\r\n\r\n") + 4);
      resolve(status ? { status, body, sent } : { error: `no answer after ${sent} bytes`, sent });
    };
    socket.setEncoding("latin1");
    socket.on("data", (d) => (received += d));
    socket.on("close", finish);
    socket.on("error", () => socket.destroy());
    socket.setTimeout(30_000, () => socket.destroy());
    socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
    const pump = () => {
      while (received === "" && sent < limit && !socket.destroyed) {
        sent += 0x10000;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      if (received === "" && !socket.destroyed) socket.end("0\r\n\r\n");
    };
    pump();
  });
}
