// Runs conformance cases through the package's public API, as a user would call it, and
// compares `JSON.stringify` output byte for byte. Shared by every runtime's test.

/** Runs one case; returns a failure description, or null when it passes. */
function runCase(api, c) {
  let snapshot;
  let status;
  let body;
  let message;
  try {
    snapshot = api.Snapshot.fromJson(JSON.stringify(c.snapshot), c.options);
    if (c.call === "load") {
      status = 200;
    } else {
      const request = c.request ?? {};
      const context = c.context ?? undefined;
      body = api[c.call](snapshot, request, context);
      const viaMethod = snapshot[c.call](request, context);
      if (JSON.stringify(viaMethod) !== JSON.stringify(body)) return "method and function answers differ";
      // An empty context means no caller too, but takes the validating path: same answer.
      const validated = snapshot[c.call](request, context ?? {});
      if (JSON.stringify(validated) !== JSON.stringify(body)) return `validating path differs: ${JSON.stringify(validated)}`;
      // The JSON text methods and functions give exactly JSON.stringify of the answer.
      for (const ctx of [context, context ?? {}]) {
        const text = snapshot[`${c.call}Json`](request, ctx);
        if (text !== JSON.stringify(body)) return `${c.call}Json differs: ${text}`;
        if (api[`${c.call}Json`](snapshot, request, ctx) !== text) return `${c.call}Json function differs`;
      }
      status = 200;
    }
  } catch (e) {
    if (!(e instanceof Error) || e.name !== "IdentityError" || !api.isIdentityError(e)) {
      return `threw a non-IdentityError: ${e && e.name}: ${e && e.message}`;
    }
    if (e.message !== e.body.message) return `message ${JSON.stringify(e.message)} differs from body.message`;
    status = e.status;
    body = e.body;
    message = e.message;
  } finally {
    snapshot?.free();
  }
  if (status !== c.expect.status) return `status ${status}, expected ${c.expect.status}: ${JSON.stringify(body)}`;
  if ("body" in c.expect && JSON.stringify(body) !== JSON.stringify(c.expect.body)) {
    return `body ${JSON.stringify(body)}\n      expected ${JSON.stringify(c.expect.body)}`;
  }
  if (c.expect.messageIncludes && !String(message).includes(c.expect.messageIncludes)) {
    return `message ${JSON.stringify(message)} lacks ${JSON.stringify(c.expect.messageIncludes)}`;
  }
  return null;
}

/**
 * Runs every case of `files` (`[{ file, cases }]`) and a few checks of the API's shape.
 * Returns `{ passed, failed, failures }`.
 */
export function runConformance(api, files) {
  let passed = 0;
  const failures = [];
  const check = (name, ok) => (ok ? passed++ : failures.push(name));
  for (const { file, cases } of files) {
    for (const c of cases) {
      const failure = runCase(api, c);
      if (failure) failures.push(`${file} / ${c.name}: ${failure}`);
      else passed++;
    }
  }
  // The rest of the contract that the cases do not reach.
  const s = api.Snapshot.fromJson(JSON.stringify(files[0].cases[0].snapshot));
  check("binary round trip answers identically", JSON.stringify(api.Snapshot.fromBytes(s.toBytes()).stats()) === JSON.stringify(s.stats()));
  check("canonical JSON round trip", api.Snapshot.fromJson(s.toJson()).toJson() === s.toJson());
  check("fromObject equals fromJson", api.Snapshot.fromObject(files[0].cases[0].snapshot).toJson() === s.toJson());
  check("fromJson accepts UTF-8 bytes", api.Snapshot.fromJson(new TextEncoder().encode(s.toJson())).toJson() === s.toJson());
  check("sequence and timestamp are strings", typeof s.sequence === "string" && typeof s.timestamp === "string");
  check("Symbol.dispose frees", typeof Symbol.dispose !== "symbol" || typeof s[Symbol.dispose] === "function");
  check("default export is init", typeof api.default === "function" && typeof api.initSync === "function");
  s.free();
  return { passed, failed: failures.length, failures };
}

/** Prints the result as one line the orchestrator reads. */
export function report(runtime, result) {
  console.log(`RESULT ${JSON.stringify({ runtime, ...result })}`);
}
