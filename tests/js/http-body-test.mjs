// handleRequest's request bodies, through the built package in Node: a body is read as a stream
// with the 1 MiB limit applied while reading (an endless chunked body is cancelled and answered
// 413, the process survives with bounded memory), an aborted request rejects with an AbortError,
// a slow body is answered like a whole one, and the promise only ever rejects with an Error —
// also for odd request objects and for a Request made in another realm (a node:vm context, as
// Next.js's edge runtime and Vitest's vm pools make them). Run with `node --expose-gc --test` (tests/js/check.mjs).
import { check } from "./check.mjs";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { createServer } from "node:http";
import { connect } from "node:net";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const api = createRequire(import.meta.url)(join(root, "pkg/node/index.cjs"));
const { Snapshot, handleRequest } = api;
/** Every request here with full rights: the handler serves no one until `auth` says how. */
const TRUSTED = { auth: "trusted" };
const { createNodeListener } = createRequire(import.meta.url)(join(root, "pkg/node/listener.cjs"));
const snapshot = Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json"), "utf8"));

const MiB = 1 << 20;
const CONNECT = "http://x/zitadel.user.v2.UserService/ListIDPLinks";
const REST = "http://x/v2/users/demo/links/_search";
const json = { "content-type": "application/json" };
const message = JSON.stringify({ userId: "demo", query: { limit: 2, asc: true } });
const expected = snapshot.listIdpLinksJson({ userId: "demo", query: { limit: 2, asc: true } });


/** A POST whose body is `stream` (no Content-Length: chunked, as fetch sends a stream). */
const post = (url, stream, init = {}) => new Request(url, { method: "POST", headers: json, body: stream, duplex: "half", ...init });

/** An endless body of `size`-byte chunks; `seen` counts what was pulled and whether it was cancelled. */
function endless(size, seen) {
  return new ReadableStream({
    pull(controller) {
      seen.bytes += size;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
}

/** The settled outcome of a promise: { value } or { error }. */
const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

// An endless chunked body: reading stops past 1 MiB, the stream is cancelled, the answer is 413
// in the peer's format; repeated, memory stays bounded (reading it whole grows without bound
// and kills the process).
for (const [url, peer] of [[CONNECT, "Connect"], [REST, "REST gateway"]]) {
  const seen = { bytes: 0, cancelled: false };
  const response = await handleRequest(snapshot, post(url, endless(64 * 1024, seen)), undefined, TRUSTED);
  const body = await response.json();
  check(`${peer}: an endless chunked body is answered 413`, response.status === 413, `status ${response.status}`);
  check(`${peer}: the 413 body is the peer's`, peer === "Connect" ? body.code === "resource_exhausted" : body.code === 8, JSON.stringify(body));
  check(`${peer}: reading stopped just past the limit`, seen.bytes <= MiB + 3 * 64 * 1024, `${seen.bytes} bytes pulled`);
  check(`${peer}: the endless stream was cancelled`, seen.cancelled);
}
{
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 40; i++) {
    const seen = { bytes: 0, cancelled: false };
    const response = await handleRequest(snapshot, post(CONNECT, endless(256 * 1024, seen)), undefined, TRUSTED);
    if (response.status !== 413 || !seen.cancelled) check(`endless body ${i}: 413 and the stream cancelled`, false, `status ${response.status}`);
  }
  const grown = (process.memoryUsage().rss - before) / MiB;
  check(`40 endless bodies leave memory bounded (RSS +${grown.toFixed(1)} MiB)`, grown < 64);
}

// The limit is exact and applies without Content-Length: 1 MiB is read, one byte more is not.
{
  const padded = (n) => message + " ".repeat(n - message.length);
  const chunks = (text) => {
    const bytes = new TextEncoder().encode(text);
    return new ReadableStream({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 100_000) controller.enqueue(bytes.subarray(at, at + 100_000));
        controller.close();
      },
    });
  };
  const exact = await handleRequest(snapshot, post(CONNECT, chunks(padded(MiB))), undefined, TRUSTED);
  check("a chunked body of exactly 1 MiB is answered", exact.status === 200 && (await exact.text()) === expected, `status ${exact.status}`);
  const over = await handleRequest(snapshot, post(CONNECT, chunks(padded(MiB + 1))), undefined, TRUSTED);
  check("a chunked body of 1 MiB + 1 byte is answered 413", over.status === 413, `status ${over.status}`);
}

// A slow body, a chunk at a time with pauses: the same answer as the whole body.
{
  const bytes = new TextEncoder().encode(message);
  let at = 0;
  const slow = new ReadableStream({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 15));
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 7));
      at += 7;
    },
  });
  const response = await handleRequest(snapshot, post(CONNECT, slow), undefined, TRUSTED);
  check("a slow body is answered as a whole one", response.status === 200 && (await response.text()) === expected);
}

// Aborts: while a read waits for a chunk that never comes, and before reading starts.
{
  const controller = new AbortController();
  let cancelled = false;
  const stalled = new ReadableStream({ pull: () => new Promise(() => {}), cancel: () => void (cancelled = true) });
  const pending = outcome(handleRequest(snapshot, post(CONNECT, stalled, { signal: controller.signal }), undefined, TRUSTED));
  setTimeout(() => controller.abort(), 30);
  const { error } = await pending;
  check("an abort while reading rejects with an AbortError", error instanceof Error && error.name === "AbortError", String(error));
  check("an abort while reading cancels the body", cancelled);
  const early = new AbortController();
  early.abort();
  const second = await outcome(handleRequest(snapshot, post(CONNECT, endless(1024, { bytes: 0 }), { signal: early.signal }), undefined, TRUSTED));
  check("an already aborted request rejects with an AbortError", second.error instanceof Error && second.error.name === "AbortError", String(second.error));
}

// A body stream that fails: an Error carrying the stream's reason as its cause.
{
  const reason = new RangeError("the client went away");
  const failing = new ReadableStream({ pull: (c) => c.error(reason) });
  const { error } = await outcome(handleRequest(snapshot, post(CONNECT, failing), undefined, TRUSTED));
  check("a failing body stream rejects with an Error whose cause is its reason", error instanceof Error && error.cause === reason, String(error));
}

// Odd request objects: never a non-Error rejection.
const odd = {
  "arrayBuffer() returns 5": { method: "POST", url: REST, arrayBuffer: () => 5 },
  "arrayBuffer() rejects with 5": { method: "POST", url: REST, arrayBuffer: () => Promise.reject(5) },
  "arrayBuffer() throws undefined": { method: "POST", url: REST, arrayBuffer: () => { throw undefined; } },
  "body is 5": { method: "POST", url: REST, body: 5 },
  "body.getReader() throws null": { method: "POST", url: REST, body: { getReader: () => { throw null; } } },
  "a reader whose read() rejects with undefined": { method: "POST", url: REST, body: { getReader: () => ({ read: () => Promise.reject(undefined), cancel: () => Promise.resolve() }) } },
  "a reader that yields a string chunk": { method: "POST", url: REST, body: { getReader: () => ({ read: () => Promise.resolve({ done: false, value: "{}" }), cancel: () => Promise.resolve() }) } },
  "headers.get throws": { method: "POST", url: REST, headers: { get: () => { throw 7; } } },
  "a number": 5,
  "null": null,
};
for (const [name, request] of Object.entries(odd)) {
  const result = await outcome(handleRequest(snapshot, request, undefined, TRUSTED));
  check(`${name}: an Response or an Error`, result.error === undefined ? result.value instanceof Response : result.error instanceof Error, String(result.error));
}
{
  const used = post(CONNECT, new Blob([message]).stream());
  await used.arrayBuffer();
  const { error } = await outcome(handleRequest(snapshot, used, undefined, TRUSTED));
  check("a Request whose body was already read rejects with an IdentityError", api.isIdentityError(error), String(error));
}

// A Request from another realm: its promises, chunks and buffers are the context's own, so
// `instanceof` fails for every one of them.
{
  const context = vm.createContext({ message, url: CONNECT });
  const foreign = vm.runInContext(
    `({
      method: "POST", url, headers: { get: (n) => n === "content-type" ? "application/json" : null },
      body: { getReader() {
        const bytes = new Uint8Array([...message].map((c) => c.charCodeAt(0)));
        let done = false;
        return {
          read: () => Promise.resolve(done ? { done: true } : ((done = true), { done: false, value: bytes })),
          cancel: () => Promise.resolve(),
        };
      } },
    })`,
    context,
  );
  check("the foreign request's chunk is not this realm's Uint8Array", !(vm.runInContext("new Uint8Array(1)", context) instanceof Uint8Array));
  const response = await outcome(handleRequest(snapshot, foreign, undefined, TRUSTED));
  check("a POST made in another realm is answered", response.value?.status === 200 && (await response.value.text()) === expected, String(response.error));
  const buffered = vm.runInContext(
    `({ method: "POST", url, headers: { get: (n) => n === "content-type" ? "application/json" : null },
        arrayBuffer: () => Promise.resolve(new Uint8Array([...message].map((c) => c.charCodeAt(0))).buffer) })`,
    context,
  );
  const second = await outcome(handleRequest(snapshot, buffered, undefined, TRUSTED));
  check("a foreign arrayBuffer() promise is answered", second.value?.status === 200 && (await second.value.text()) === expected, String(second.error));
}

// The Node listener (identity-links/node) over node:http: the same limit while reading, and an
// idle timeout for a body that stops sending. Raw sockets, so that the client controls every byte.
{
  const server = createServer(createNodeListener(snapshot, { idleTimeoutMs: 150, options: TRUSTED }));
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  /** Sends `head`, then `chunks` (written by `write`), and resolves with the answer's status line. */
  const exchange = (write) =>
    new Promise((done) => {
      const socket = connect(port, "127.0.0.1");
      let received = "";
      socket.setEncoding("latin1");
      socket.on("data", (d) => (received += d));
      socket.on("close", () => done(received));
      socket.on("error", () => socket.destroy());
      socket.setTimeout(10_000, () => socket.destroy());
      write(socket, () => received !== "");
    });
  const head = "POST /zitadel.user.v2.UserService/ListIDPLinks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  const flood = await exchange((socket, answered) => {
    socket.write(head);
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
    let sent = 0;
    const pump = () => {
      while (!answered() && sent < 64 && !socket.destroyed) {
        sent++;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      if (!answered() && !socket.destroyed) socket.end("0\r\n\r\n");
    };
    pump();
  });
  check("the Node listener answers an endless chunked body 413", flood.startsWith("HTTP/1.1 413"), flood.slice(0, 40));
  const stalled = await exchange((socket) => socket.write(`${head}5\r\n{"use`));
  check("the Node listener answers a body that stops sending 408 after its idle timeout", stalled.startsWith("HTTP/1.1 408"), stalled.slice(0, 40));
  const whole = await exchange((socket) => socket.end(`${head}${message.length.toString(16)}\r\n${message}\r\n0\r\n\r\n`));
  check("the Node listener answers a whole body", whole.startsWith("HTTP/1.1 200") && whole.includes(expected), whole.slice(0, 40));
  server.close();
}

