// The public API over wasm-bindgen's glue. Every query runs in wasm: a trusted call (no caller
// context, plain values) is one call that answers in the layout of src/wasm/abi.rs — the one
// memory contract between this file and the module, checked constant by constant at install —
// and any other call goes to the validating wasm methods, which throw the exact IdentityError.
// This file passes requests in (their strings as UTF-8 in the module's input area) and decodes
// answers out: cells of text, each decoded once per snapshot and kept by its key. It holds no
// lookup, record format or query rule.
import { TextDecoder, TextEncoder } from "./text.js"; // the globals, or Node's where an environment lacks them

/** The constants of src/wasm/abi.rs, in the order of its `constants()`. */
export const ABI = Object.freeze({
  VERSION: 6, NULL: 0xffffffff, ABSENT: 0xfffffffe, FRESH: 0xfffffffd, RAW: 0xfffffffc, REQUEST_BYTES: 4096, TABLES: 41, LIST_HEAD: 5,
  MAX_BODY: 1048576, BODY_LATER: 0xfffffffb, TOO_LARGE: 0xfffffffa, TRAILERS: 1, TEXT: 1, BYTES: 2, TRUSTED: 2, AUTH_ZITADEL: 4, AUTH_CAMUNDA: 8,
  ID_USER: 1, ID_MISSING: 2, ID_MALFORMED: 3, ID_INVALID: 4, ID_UNAVAILABLE: 5,
});
const { NULL, ABSENT, RAW, REQUEST_BYTES, LIST_HEAD, MAX_BODY, BODY_LATER, TOO_LARGE, TRAILERS, TEXT, TRUSTED, AUTH_ZITADEL, AUTH_CAMUNDA } = ABI;
const { ID_USER, ID_MISSING, ID_MALFORMED, ID_INVALID, ID_UNAVAILABLE } = ABI;

/**
 * The key under which `handleRequest` carries its variant for the package's Node listener
 * (listener.js): the same call with the `TRAILERS` flag, answering `{ response, trailers }`.
 * `Symbol.for`, so that the CommonJS and ES module copies of these files agree.
 */
export const WITH_TRAILERS = Symbol.for("identity-links.handleRequestWithTrailers");
/** The key under which `handleRequest` carries the check of its options, for the Node listener. */
export const CHECK_OPTIONS = Symbol.for("identity-links.checkHandlerOptions");

/** Whether `v` is a string that reaches wasm unchanged (lone surrogates would not). */
const wellFormed = (v) => typeof v === "string" && v.isWellFormed();

/**
 * The runtime features the package relies on: `String.prototype.isWellFormed` (ES2024), with
 * which both this file and the module (src/wasm/convert.rs) refuse text with lone surrogates.
 */
export const REQUIRES = "String.prototype.isWellFormed (ES2024: Node 20, Deno 1.38, Bun 1.0, Chrome and Edge 111, Firefox 119, Safari 16.4)";

/** Throws unless `glue`'s module keeps the contract this file was written for. */
export function checkAbi(glue) {
  const theirs = Array.from(glue.__abi?.() ?? []);
  const ours = Object.values(ABI);
  if (theirs.length !== ours.length || theirs.some((v, i) => v !== ours[i])) {
    throw new Error(`identity-links: the .wasm module's ABI (${theirs.join(", ") || "none"}) is not this wrapper's (${ours.join(", ")}): the package's files come from different builds`);
  }
}

/**
 * Wraps `glue` (wasm-bindgen's module): returns the package's exports. The entry points call
 * `checkAbi(glue)` once the module is instantiated (at once in Node, after `init` elsewhere).
 * `compiledModule()` gives the compiled `WebAssembly.Module` (or null before init), which
 * fromJson instantiates again for its throwaway loads. Zitadel's token verifier
 * (auth/zitadel-token.js) is handed over by the entry, as its own copy for the module format:
 * `createZitadelVerifier` itself (Node's CommonJS entry, where size does not matter and the Node
 * listener checks its options when it is made), or `loadZitadelVerifier`, a function that imports
 * it (`import()`), so that bundlers put it (and jose) in a chunk of its own that only a handler
 * with `auth.zitadel` loads, and a bundle that only queries a snapshot never fetches it.
 */
export function install(glue, compiledModule, { createZitadelVerifier, loadZitadelVerifier } = {}) {
  if (typeof String.prototype.isWellFormed !== "function") {
    throw new Error(`identity-links: this runtime lacks ${REQUIRES}, which the package needs to refuse text with lone surrogates`);
  }
  const { Snapshot } = glue;
  const proto = Snapshot.prototype;

  /**
   * The module's memory once it is initialized. Before (the default entry for browsers and
   * bundlers, and the web entry, until `init()` or `initSync()`; the Node, workerd, edge-light
   * and Bun entries initialize as they are imported): an Error saying so, naming `what` was
   * called, rather than wasm-bindgen's TypeError about an undefined export.
   */
  let memory = null; // the module's memory (its views below), once initialized
  const initialized = (what) => {
    if (memory !== null) return memory;
    try {
      return (memory = glue.__memory());
    } catch (e) {
      throw new Error(`identity-links: ${what} before the module is initialized: call init() or initSync() first`, { cause: e });
    }
  };

  // A freed snapshot (or a foreign `this`) is a clear IdentityError, not wasm-bindgen's
  // "null pointer passed to rust": every method and getter checks first. The wrapper keeps the
  // freed ones itself (free() below); of wasm-bindgen's internals it reads only whether the
  // object holds a handle of its own (below).
  const FREED = "This snapshot was freed (free() was called) or is not a Snapshot: load it again with Snapshot.fromJson, fromObject or fromBytes.";
  const freed = new WeakSet();
  // A snapshot the module made holds its own handle (wasm-bindgen's `__wbg_ptr`, set when the
  // module hands it over): an object that only inherits one (`Object.create(snapshot)`) would
  // free or use the snapshot it inherits from.
  const usable = (snapshot) => snapshot instanceof Snapshot && Object.hasOwn(snapshot, "__wbg_ptr") && !freed.has(snapshot);
  const refuse = () => {
    throw glue.__usageError(FREED);
  };
  const rawFree = proto.free; // wasm-bindgen's, before the check below wraps it
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (name === "constructor" || name.startsWith("__")) continue;
    if (typeof d.value === "function") {
      const method = d.value;
      proto[name] = function (...args) {
        if (!usable(this)) refuse();
        return method.apply(this, args);
      };
    } else if (d.get) {
      const get = d.get;
      Object.defineProperty(proto, name, { ...d, get() {
        if (!usable(this)) refuse();
        return get.call(this);
      } });
    }
  }
  // free() lets the snapshot's decoded texts go too, even if the object is kept. A snapshot that
  // handleRequest is still answering from (a request waiting for its body or its caller between
  // two calls into the module) is refused to new calls at once and freed when the last of those
  // requests ends: a re-base that frees the replaced snapshot never breaks a request under way.
  const answering = new WeakMap(); // snapshot → the handleRequest calls under way on it
  const release = (snapshot) => {
    rawFree.call(snapshot);
    snapshot.__texts = undefined;
    snapshot.__quoted = undefined;
  };
  proto.free = function () {
    if (!usable(this)) refuse();
    freed.add(this);
    if (!answering.has(this)) release(this);
  };
  /** Runs `serve` on `snapshot` with the snapshot kept until it settles (free() deferred). */
  const keeping = async (snapshot, serve) => {
    answering.set(snapshot, (answering.get(snapshot) ?? 0) + 1);
    try {
      return await serve();
    } finally {
      const left = answering.get(snapshot) - 1;
      if (left > 0) answering.set(snapshot, left);
      else {
        answering.delete(snapshot);
        if (freed.has(snapshot)) release(snapshot);
      }
    }
  };
  if (typeof Symbol.dispose === "symbol") proto[Symbol.dispose] = proto.free;
  // deltaTo's argument must be a usable Snapshot too (not wasm-bindgen's null-pointer error).
  const deltaTo = proto.deltaTo;
  proto.deltaTo = function deltaTo_(newer) {
    if (!usable(newer)) refuse();
    return deltaTo.call(this, newer);
  };
  // A delta renumbers the snapshot's texts: the ones kept by key go with it.
  const applyDelta = proto.applyDelta;
  proto.applyDelta = function applyDelta_(delta) {
    applyDelta.call(this, delta);
    this.__texts = undefined;
    this.__quoted = undefined;
  };
  const validating = {};
  for (const name of ["getIdentityLinks", "getUserGroups", "listIdpLinks", "getIdentityLinksJson", "getUserGroupsJson", "listIdpLinksJson"]) validating[name] = proto[name];

  // Views of wasm memory. When memory grows its buffer is replaced and these views detached
  // (length 0): `view()` makes new ones.
  let words = new Uint32Array(0);
  let bytes = new Uint8Array(0);
  const view = () => (words.length === 0 ? renewViews() : words);
  function renewViews() {
    const buffer = (memory ??= glue.__memory()).buffer;
    words = new Uint32Array(buffer);
    bytes = new Uint8Array(buffer);
    return words;
  }

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  // --- Requests in: strings one after another in the module's request area (which never
  // moves), their lengths for the call. A request that does not fit takes the validating path.
  let requestAt = 0;
  const lengths = [0, 0];

  /** Writes `a` and `b` (a string or null) into the request area; false if they do not fit or are not Unicode. */
  function put(a, b) {
    if (requestAt === 0) requestAt = glue.__request() >>> 0;
    view();
    const end = requestAt + REQUEST_BYTES;
    lengths[0] = encode(a, requestAt, end);
    if (lengths[0] < 0) return false;
    lengths[1] = b === null ? NULL : encode(b, requestAt + lengths[0], end);
    return lengths[1] >= 0;
  }

  /**
   * UTF-8 of `text` at `at`, before `end` (ASCII by hand, the rest by encodeInto): its length;
   * -1 if it does not fit or is not Unicode.
   */
  function encode(text, at, end) {
    const n = text.length;
    if (at + n > end) return -1;
    const b = bytes;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        if (!wellFormed(text)) return -1;
        const { read, written } = encoder.encodeInto(text, b.subarray(at, end));
        return read === n ? written : -1;
      }
      b[at + i] = c;
    }
    return n;
  }

  // --- Answers out: cells of text (src/wasm/abi.rs), kept per snapshot by key, read in order
  // from the word `at`.

  /** Text of `n` bytes at `from`: short ASCII by hand, the rest by TextDecoder. */
  function decodeAt(from, n) {
    if (n > 24) return decoder.decode(bytes.subarray(from, from + n));
    let s = "";
    for (let i = from, end = from + n; i < end; i++) {
      const c = bytes[i];
      if (c > 0x7f) return decoder.decode(bytes.subarray(from, from + n));
      s += String.fromCharCode(c);
    }
    return s;
  }

  let at = 0; // the next word of the answer being read

  /** The next cell: its text (kept under its key), null, or undefined when ABSENT. */
  function next(snapshot, t) {
    const key = words[at++];
    if (key < RAW) return t[key] ?? miss(snapshot, t, key);
    if (key === NULL) return null;
    if (key === ABSENT) return undefined;
    at += 2; // FRESH (objects have no RAW cells)
    return decodeAt(words[at - 2], words[at - 1]);
  }

  /** The text of a key not seen before, asked of the snapshot and kept. */
  function miss(snapshot, t, key) {
    const spot = snapshot.__text(key) >>> 2;
    view(); // the call may have grown memory
    return (t[key] = decodeAt(words[spot], words[spot + 1]));
  }

  /** The snapshot's kept texts, by key. */
  const texts = (snapshot) => snapshot.__texts ?? (snapshot.__texts = new Array(snapshot.__keys()));
  /** The same texts as JSON string literals, by key. */
  const quotedTexts = (snapshot) => snapshot.__quoted ?? (snapshot.__quoted = new Array(snapshot.__keys()));
  /** RAW pieces by address: the module's own literals, which never move. */
  const raws = new Map();

  /** A `...Json` answer from its pieces: strings quoted, syntax as it is. */
  function pieces(snapshot) {
    const t = texts(snapshot);
    const q = quotedTexts(snapshot);
    let out = "";
    for (let n = words[at++]; n > 0; n--) {
      const key = words[at++];
      if (key < RAW) out += q[key] ?? (q[key] = JSON.stringify(t[key] ?? miss(snapshot, t, key)));
      else if (key === RAW) out += raws.get(words[at]) ?? raw(words[at], words[at + 1]);
      else out += JSON.stringify(decodeAt(words[at], words[at + 1]));
      if (key >= RAW) at += 2;
    }
    return out;
  }
  function raw(from, n) {
    const text = decodeAt(from, n);
    raws.set(from, text);
    return text;
  }

  /** Starts reading the answer at `address` (the call's result): false for none. */
  const answered = (address) => {
    view(); // the call may have grown memory
    at = (address >>> 2) + 1;
    return address !== 0;
  };

  const trusted = (request, context) => context === undefined && request !== null && typeof request === "object";

  // --- The calls: false when the validating method must answer instead.

  /** Whether a call on `snapshot` may take the trusted path (a freed snapshot is refused here). */
  const trustedCall = (snapshot, request, context) => {
    if (!usable(snapshot)) refuse();
    return trusted(request, context);
  };

  function callLinks(snapshot, request, context, json) {
    if (!trustedCall(snapshot, request, context)) return false;
    const taskId = request.taskId;
    const type = request.type ?? null;
    if (typeof taskId !== "string" || (type !== null && typeof type !== "string") || !put(taskId, type)) return false;
    return answered(snapshot.__links(lengths[0], lengths[1], json));
  }

  function callGroups(snapshot, request, context, json) {
    if (!trustedCall(snapshot, request, context)) return false;
    const userId = request.userId;
    if (typeof userId !== "string" || !put(userId, null)) return false;
    return answered(snapshot.__groups(lengths[0], json));
  }

  function callIdp(snapshot, request, context, json) {
    if (!trustedCall(snapshot, request, context)) return false;
    const userId = request.userId;
    const query = request.query;
    if (typeof userId !== "string" || (query !== undefined && (query === null || typeof query !== "object" || Array.isArray(query)))) return false;
    const { offset = 0, limit = 0, asc = false } = query ?? {};
    if (typeof offset !== "number" || typeof limit !== "number" || typeof asc !== "boolean" || !put(userId, null)) return false;
    return answered(snapshot.__idp(lengths[0], offset, limit, asc, json));
  }


  proto.getIdentityLinks = function getIdentityLinks(request, context) {
    if (!callLinks(this, request, context, false)) return validating.getIdentityLinks.call(this, request, context);
    const t = texts(this);
    const links = new Array(words[at++]);
    for (let i = 0; i < links.length; i++) links[i] = { userId: next(this, t), groupId: next(this, t), type: next(this, t) };
    return links;
  };

  proto.getUserGroups = function getUserGroups(request, context) {
    if (!callGroups(this, request, context, false)) return validating.getUserGroups.call(this, request, context);
    const t = texts(this);
    const groups = new Array(words[at++]);
    for (let i = 0; i < groups.length; i++) groups[i] = { id: next(this, t), name: next(this, t) };
    const groupUsers = new Array(words[at++]);
    for (let i = 0; i < groupUsers.length; i++) {
      groupUsers[i] = { firstName: next(this, t), lastName: next(this, t), displayName: next(this, t), id: next(this, t) };
    }
    return { groups, groupUsers };
  };

  proto.listIdpLinks = function listIdpLinks(request, context) {
    if (!callIdp(this, request, context, false)) return validating.listIdpLinks.call(this, request, context);
    const t = texts(this);
    const details = {};
    const total = next(this, t);
    if (total !== undefined) details.totalResult = total;
    const sequence = next(this, t);
    if (sequence !== undefined) details.processedSequence = sequence;
    details.timestamp = next(this, t);
    const answer = { details };
    const n = words[at++];
    if (n === ABSENT) return answer;
    const result = (answer.result = new Array(n));
    for (let i = 0; i < n; i++) {
      const idpId = next(this, t);
      const userId = next(this, t);
      const userName = next(this, t);
      result[i] = userName === undefined ? { idpId, userId } : { idpId, userId, userName };
    }
    return answer;
  };

  proto.getIdentityLinksJson = function getIdentityLinksJson(request, context) {
    return callLinks(this, request, context, true) ? pieces(this) : validating.getIdentityLinksJson.call(this, request, context);
  };

  proto.getUserGroupsJson = function getUserGroupsJson(request, context) {
    return callGroups(this, request, context, true) ? pieces(this) : validating.getUserGroupsJson.call(this, request, context);
  };

  proto.listIdpLinksJson = function listIdpLinksJson(request, context) {
    return callIdp(this, request, context, true) ? pieces(this) : validating.listIdpLinksJson.call(this, request, context);
  };

  // --- fromJson through a throwaway instance (src/wasm/scratch.rs): the text is loaded in a
  // fresh instance of the compiled module, and only the tables it built are copied into this
  // one (src/wasm/abi.rs, "Moving a snapshot's tables"), which checks them as fromBytes checks
  // the binary form — so the input's copy and the loader's working memory never enter the
  // long-lived memory, which wasm cannot shrink. Any refusal, or a runtime that cannot make the
  // instance, takes the direct path, which throws the exact IdentityError.
  const direct = Snapshot.fromJson;
  const SMALLEST = '{"version":1}';
  let stubs = null; // imports for a throwaway instance: it never calls them
  // The last throwaway instance, weakly held: reused while the garbage collector has not taken it
  // (its memory is already paged in), never kept alive for it.
  let spare = null;

  /** Import functions that throw, one for each import of `compiled`; null if it imports more. */
  function stubImports(compiled) {
    const imports = {};
    for (const { module: from, name, kind } of WebAssembly.Module.imports(compiled)) {
      if (kind !== "function") return null;
      (imports[from] ??= {})[name] = () => {
        throw new Error("identity-links: a throwaway instance called into JS");
      };
    }
    return imports;
  }

  /** JSON `text` loaded in a throwaway instance: its exports and its table list's address; or null. */
  function loadElsewhere(text, maxBytes) {
    const compiled = compiledModule?.();
    if (compiled === undefined || typeof WebAssembly !== "object") return null;
    stubs ??= stubImports(compiled) ?? false;
    if (stubs === false) return null;
    try {
      const scratch = spare?.deref() ?? new WebAssembly.Instance(compiled, stubs).exports;
      spare = typeof WeakRef === "function" ? new WeakRef(scratch) : null;
      // UTF-8 is at most 3 bytes a UTF-16 unit; JSON is mostly ASCII: try an eighth more first.
      let length = typeof text === "string" ? text.length + (text.length >>> 3) : text.length;
      let at = scratch.__input(length) >>> 0;
      if (typeof text === "string") {
        let done = encoder.encodeInto(text, new Uint8Array(scratch.memory.buffer, at, length));
        if (done.read < text.length) {
          at = scratch.__input(3 * text.length) >>> 0;
          done = encoder.encodeInto(text, new Uint8Array(scratch.memory.buffer, at, 3 * text.length));
        }
        length = done.written;
      } else {
        new Uint8Array(scratch.memory.buffer, at, length).set(text);
      }
      const list = scratch.__jsonToTables(length, maxBytes) >>> 0;
      return list === 0 ? null : { scratch, list };
    } catch {
      return null; // no memory for a second instance, or a runtime that refuses one
    }
  }

  /**
   * Copies the tables of the snapshot loaded in `scratch` (its table list at `list`) into this
   * instance: the Snapshot, checked there; null when this instance's memory cannot hold them.
   */
  function moveTables({ scratch, list }, options) {
    const size = 4 * (LIST_HEAD + 2 * ABI.TABLES);
    if (requestAt === 0) requestAt = glue.__request() >>> 0;
    const from = new DataView(scratch.memory.buffer, list, size);
    view();
    bytes.set(new Uint8Array(scratch.memory.buffer, list, size), requestAt);
    if (glue.__adopt() !== 1) return null;
    view(); // making room may have grown this memory
    const to = new DataView(bytes.buffer, requestAt, size);
    for (let at = 4 * LIST_HEAD; at < size; at += 8) {
      const length = from.getUint32(at + 4, true);
      const source = new Uint8Array(scratch.memory.buffer, from.getUint32(at, true), length);
      bytes.set(source, to.getUint32(at, true));
    }
    return Snapshot.__adopted(options);
  }

  Snapshot.fromJson = function fromJson(text, options) {
    initialized("Snapshot.fromJson()");
    // (ArrayBuffer.isView first: `instanceof` throws on a revoked proxy; isView never does.)
    if (!wellFormed(text) && !(ArrayBuffer.isView(text) && text instanceof Uint8Array)) return direct(text, options);
    // Options are read by the module on either path (__adopted, or the direct load after a
    // refusal), so they are refused exactly as the direct path refuses them; a maxBytes that is
    // not a number, or too small for any snapshot, goes straight to the direct path.
    let maxBytes;
    try {
      maxBytes = options?.maxBytes ?? 1 << 30;
    } catch {
      return direct(text, options); // options that cannot be read: refused there, naming them
    }
    if (typeof maxBytes !== "number" || maxBytes < SMALLEST.length) return direct(text, options);
    const loaded = text.length <= maxBytes ? loadElsewhere(text, maxBytes) : null;
    return (loaded && moveTables(loaded, options)) ?? direct(text, options);
  };

  // fromObject is JSON.stringify, then fromJson: the same way round. What JSON cannot hold goes
  // to the direct path, which refuses it with its exact IdentityError.
  const directObject = Snapshot.fromObject;
  Snapshot.fromObject = function fromObject(data, options) {
    initialized("Snapshot.fromObject()");
    let text;
    try {
      text = JSON.stringify(data);
    } catch {
      return directObject(data, options);
    }
    return typeof text === "string" ? Snapshot.fromJson(text, options) : directObject(data, options);
  };

  /** `error` if it is an Error (of any realm), otherwise an Error saying `message`, with it as cause. */
  const asError = (error, message) =>
    error instanceof Error || Object.prototype.toString.call(error) === "[object Error]" ? error : new Error(message, { cause: error });

  // --- fromStream: each chunk goes into wasm memory as it arrives (src/wasm/stream.rs); the
  // binary form is read into the tables there, so the input is never held whole. JSON, which
  // the module recognises by its first bytes, is gathered here and loaded with fromJson.
  const usage = (message) => glue.__usageError(`Snapshot.fromStream: ${message}`);

  /** `value` as a Uint8Array of this realm, or null when it is not bytes. */
  function bytesOf(value) {
    if (value instanceof Uint8Array) return value;
    return ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null;
  }



  Snapshot.fromStream = async function fromStream(stream, options) {
    initialized("Snapshot.fromStream()");
    if (stream === null || typeof stream !== "object" || typeof stream.getReader !== "function") {
      throw usage("expected a ReadableStream of bytes (a fetch body, KV.get(key, \"stream\"), Blob.stream())");
    }
    let reader;
    try {
      reader = stream.getReader();
    } catch (e) {
      throw Object.assign(usage("the stream is locked (another reader is reading it)"), { cause: e });
    }
    let loader = null;
    const json = [];
    try {
      loader = new glue.__SnapshotLoader(options);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = bytesOf(value);
        if (chunk === null) throw usage(`a chunk that is not bytes (${typeof value}): read the stream as bytes, not text`);
        if (json.length > 0) {
          loader.count(chunk.length);
          json.push(chunk);
        } else if (!loader.push(chunk)) {
          json.push(chunk);
        }
      }
    } catch (e) {
      loader?.free();
      reader.cancel(e).catch(() => {});
      throw asError(e, "Snapshot.fromStream: the stream failed");
    }
    reader.releaseLock?.();
    if (json.length === 0) return loader.finish();
    loader.free();
    const text = new Uint8Array(json.reduce((n, c) => n + c.length, 0));
    json.reduce((at, c) => (text.set(c, at), at + c.length), 0);
    return Snapshot.fromJson(text, options);
  };

  // --- handleRequest: one call into the module per request (src/wasm/abi.rs, "An HTTP
  // request"), which makes every HTTP decision. This reads what the call needs of the Request —
  // its method, URL, a few headers and the body stream, which is I/O — and builds the Response
  // from the answer's words.

  /** The request headers the module reads, after the method and the URL (abi order). */
  const HEADERS = ["content-type", "content-length", "origin", "access-control-request-method", "access-control-request-headers"];
  const httpLengths = new Array(3 + HEADERS.length); // the method, the URL, the headers, the caller
  let httpAt = 0; // the module's HTTP input area, and how many bytes it holds
  let httpRoom = 0;

  /** `target[key]`, or undefined when reading it throws. */
  function read(target, key) {
    try {
      return target[key];
    } catch {
      return undefined;
    }
  }

  /** Which of HEADERS a method's request can use (abi: "An HTTP request"), by method kind. */
  const WANTED = { bodiless: [false, false, true, false, false], options: [false, false, true, true, true], body: [true, true, true, false, false] };

  /**
   * The request's method, URL and headers, in the abi's order: null where absent, not a string
   * or not used with this method (a method or URL with lone surrogates too, which the module
   * refuses by name; a header's are replaced, as a `Headers` object would).
   */
  function readHead(request) {
    const object = request !== null && (typeof request === "object" || typeof request === "function");
    let method = object ? read(request, "method") : undefined;
    let url = object ? read(request, "url") : undefined;
    if (!wellFormed(method)) method = null;
    if (!wellFormed(url)) url = null;
    const head = [method, url];
    const headers = object ? read(request, "headers") : undefined;
    const get = headers !== null && typeof headers === "object" ? read(headers, "get") : undefined;
    const wanted = method === null ? WANTED.body : bodiless(method) ? WANTED.bodiless : /^options$/i.test(method) ? WANTED.options : WANTED.body;
    for (let i = 0; i < HEADERS.length; i++) {
      let value = null;
      if (wanted[i] && typeof get === "function") {
        try {
          value = get.call(headers, HEADERS[i]);
        } catch {
          value = null;
        }
      }
      head.push(typeof value === "string" ? value.toWellFormed() : null);
    }
    return head;
  }

  /** Whether a request of `method` has no body to read (GET and HEAD). */
  const bodiless = (method) => method.length <= 4 && /^(get|head)$/i.test(method);

  /** Makes the input area hold `n` bytes; its address. */
  function room(n) {
    if (n > httpRoom) {
      const at = glue.__httpInput(n) >>> 0;
      if (at === 0) throw glue.__invalidRequest(`the request (${n} bytes) does not fit in the module's memory`);
      [httpAt, httpRoom] = [at, n];
    }
    return httpAt;
  }

  /**
   * Writes the texts of `head` and then `chunks` (of `size` bytes in all) into the input area;
   * their lengths into `httpLengths`.
   */
  function putRequest(head, chunks, size) {
    let bound = size;
    for (const text of head) if (text !== null) bound += 3 * text.length;
    let at = room(bound);
    const end = at + bound;
    view();
    for (let i = 0; i < head.length; i++) {
      if (head[i] === null) {
        httpLengths[i] = NULL;
        continue;
      }
      httpLengths[i] = encode(head[i], at, end);
      at += httpLengths[i];
    }
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
  }

  /** One call: the address of the answer's words. */
  function call(snapshot, body, flags, identity, context, options) {
    const [a, b, c, d, e, f, g, h] = httpLengths;
    const address = snapshot.__http(a, b, c, d, e, f, g, h, body, flags, identity, context, options) >>> 0;
    view(); // the call may have grown memory
    return address >>> 2;
  }

  /** The text of the cell at word `i`: RAW cells kept by their address. */
  const cellText = (i) => (words[i] === RAW ? (raws.get(words[i + 1]) ?? raw(words[i + 1], words[i + 2])) : decodeAt(words[i + 1], words[i + 2]));

  /** The `Response` of the answer at word `i` (and its trailers, when `trailers` is an array). */
  function toResponse(i, trailers) {
    const [status, kind, from, length] = [words[i], words[i + 1], words[i + 2], words[i + 3]];
    i += 4;
    const headers = {};
    for (let n = words[i++]; n > 0; n--, i += 6) headers[cellText(i)] = cellText(i + 3);
    for (let n = words[i++]; n > 0; n--, i += 6) trailers?.push([cellText(i), cellText(i + 3)]);
    let body = null;
    if (kind === TEXT) body = length > 24 ? decoder.decode(bytes.subarray(from, from + length)) : decodeAt(from, length);
    else if (kind !== 0) body = bytes.slice(from, from + length);
    return new Response(body, { status, headers });
  }

  /** Calls `f` and ignores its promise's rejection (a cancelled stream's): never unhandled. */
  function quietly(f) {
    try {
      Promise.resolve(f()).then(undefined, () => {});
    } catch {
      // a reader that throws on cancel: nothing to wait for
    }
  }

  /** An `AbortError` (a `DOMException` where the runtime has one), its `cause` the signal's reason. */
  function abortError(signal) {
    const message = "the request was aborted while its body was read";
    let error;
    if (typeof DOMException === "function") error = new DOMException(message, "AbortError");
    else (error = new Error(message)).name = "AbortError";
    if (signal.reason !== undefined) error.cause = signal.reason;
    return error;
  }

  /** The bytes of a chunk (a typed array or DataView of any realm), or null. */
  const chunkBytes = (value) => (ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null);

  /** An `ArrayBuffer` (of any realm) or a view as bytes, or null. */
  function wholeBytes(value) {
    if (ArrayBuffer.isView(value)) return chunkBytes(value);
    const tag = Object.prototype.toString.call(value);
    return tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]" ? new Uint8Array(value) : null;
  }

  /**
   * Reads `request`'s body, at most `limit` bytes: `{ chunks, size }`, or null when it went
   * past the limit (the reader is cancelled then, as when the signal aborts).
   */
  async function readBody(request, limit) {
    const chunks = [];
    let size = 0;
    const add = (chunk) => {
      if (size + chunk.length > limit) return false;
      chunks.push(chunk);
      size += chunk.length;
      return true;
    };
    const signal = read(request, "signal") ?? undefined;
    if (signal?.aborted) throw abortError(signal);
    const stream = read(request, "body");
    if (stream === null || stream === undefined) {
      // Not a fetch Request: its arrayBuffer(), if it has one.
      if (typeof request.arrayBuffer !== "function") return { chunks, size };
      const whole = wholeBytes(await request.arrayBuffer());
      if (whole === null) throw glue.__invalidRequest("request.arrayBuffer(): expected an ArrayBuffer");
      return add(whole) ? { chunks, size } : null;
    }
    if (typeof stream.getReader !== "function") throw glue.__invalidRequest("request.body: expected a ReadableStream or null");
    let reader;
    try {
      reader = stream.getReader();
    } catch (e) {
      throw glue.__invalidRequest("request.body: already read or locked", e);
    }
    if (typeof reader?.read !== "function" || typeof reader.cancel !== "function") {
      throw glue.__invalidRequest("request.body.getReader(): expected a stream reader");
    }
    // An abort cancels the reader, so that a read waiting for a chunk that never comes settles.
    // The listener is added only once a read does not settle at once (adding and removing one
    // costs several µs in Node, more than the rest of a small request): a body already in
    // memory is read without it.
    const onAbort = () => quietly(() => reader.cancel());
    const listening = typeof signal?.addEventListener === "function";
    let watching = false;
    let ended = false;
    try {
      for (;;) {
        let next;
        try {
          const read = reader.read();
          next = watching || !listening ? await read : await Promise.race([read, NOT_YET]);
          if (next === NOT_YET_MARK) {
            signal.addEventListener("abort", onAbort);
            watching = true;
            if (signal.aborted) onAbort();
            next = await read;
          }
        } catch (e) {
          if (signal?.aborted) throw abortError(signal);
          throw new Error("the request body stream failed", { cause: e });
        }
        if (signal?.aborted) throw abortError(signal);
        if (next !== null && typeof next === "object" && next.done) {
          ended = true;
          return { chunks, size };
        }
        const chunk = chunkBytes(next?.value);
        if (chunk === null) throw glue.__invalidRequest("request.body: a chunk that is not a Uint8Array");
        if (!add(chunk)) return null; // past the limit: the answer is 413
      }
    } finally {
      if (watching && typeof signal.removeEventListener === "function") signal.removeEventListener("abort", onAbort);
      if (!ended) quietly(() => reader.cancel());
    }
  }

  /** Raced with a read: wins only when the read has not settled yet. */
  const NOT_YET_MARK = Object.freeze({});
  const NOT_YET = Promise.resolve(NOT_YET_MARK);

  const NO_CHUNKS = [];

  // --- Who is calling (API.md "Authentication"): the handler serves no one until `auth` says
  // how. The wrapper verifies credentials, which is I/O, when the module asks for a route's
  // caller; the module decides when, and answers every refusal in the route's protocol.

  /** A UsageError (the module's), with `message`. */
  const usageError = (message) => glue.__usageError(message);
  const AUTH_REQUIRED = 'handleRequest: options.auth is required: "trusted" to answer every request with full rights (behind your own gateway), or { zitadel?, camunda? } to take the caller from the request (README, "Authentication")';
  /** What `auth` says, read once per options object (so the key set's cache lives on). */
  const handlers = new WeakMap();

  /**
   * `options`' auth: flags, the options the module reads (without `auth`), the verifiers; a
   * promise of them while the token verifier is being loaded (`loadZitadelVerifier`, the first
   * time `auth.zitadel` is given).
   */
  function handlerAuth(options) {
    if (options === null || typeof options !== "object") throw usageError(AUTH_REQUIRED);
    const known = handlers.get(options);
    if (known !== undefined) return known;
    const { auth, ...rest } = options;
    const moduleOptions = Object.keys(rest).length > 0 ? rest : undefined;
    let read;
    if (auth === "trusted") read = { flags: TRUSTED, moduleOptions, zitadel: null, camunda: null };
    else if (auth !== null && typeof auth === "object" && !Array.isArray(auth)) read = authOptions(auth, rest);
    else if (auth === undefined) throw usageError(AUTH_REQUIRED);
    else throw usageError(`handleRequest: options.auth must be "trusted" or { zitadel?, camunda? }, found ${auth === null ? "null" : typeof auth}`);
    if (read instanceof Promise) {
      // Until it settles, concurrent requests share it; a failure is not kept (the next tries again).
      read = read.then(
        (done) => (handlers.set(options, done), done),
        (error) => {
          handlers.delete(options);
          throw error;
        },
      );
    }
    handlers.set(options, read);
    return read;
  }

  let verifierModule = null;
  /** `createZitadelVerifier`: at once, or a promise while it is imported (once). */
  function zitadelVerifierFactory() {
    if (typeof createZitadelVerifier === "function") return createZitadelVerifier;
    if (typeof loadZitadelVerifier !== "function") throw usageError("handleRequest: options.auth.zitadel: this entry of the package has no token verifier");
    verifierModule ??= Promise.resolve()
      .then(loadZitadelVerifier)
      .then(
        (loaded) => (verifierModule = loaded.createZitadelVerifier),
        (error) => {
          verifierModule = null;
          throw new Error(`identity-links: loading the token verifier (auth/zitadel-token.js) failed: ${error?.message ?? error}`, { cause: error });
        },
      );
    return verifierModule;
  }

  /**
   * AuthOptions, checked: its verifiers and the module's flags, with `rest` (the options the
   * module reads); a promise of them while the verifier is loaded.
   */
  function authOptions(auth, rest) {
    for (const key of Object.keys(auth)) {
      if (key !== "zitadel" && key !== "camunda") throw usageError(`handleRequest: options.auth.${key}: unknown option (zitadel, camunda)`);
    }
    if (auth.zitadel === undefined) return withVerifier(auth, rest, null);
    const factory = zitadelVerifierFactory();
    return typeof factory === "function" ? withVerifier(auth, rest, factory) : factory.then((loaded) => withVerifier(auth, rest, loaded));
  }

  /** AuthOptions, checked, with the verifier made by `createVerifier` (null: no `auth.zitadel`). */
  function withVerifier(auth, rest, createVerifier) {
    let zitadel = null;
    if (createVerifier !== null) {
      // Zitadel's role -> permission mapping is the module's to read and apply (it checks it and
      // names what is wrong); the verifier gets the rest.
      let verifierOptions = auth.zitadel;
      if (auth.zitadel !== null && typeof auth.zitadel === "object" && "rolePermissions" in auth.zitadel) {
        const { rolePermissions, ...others } = auth.zitadel;
        verifierOptions = others;
        if (rolePermissions !== undefined) rest = { ...rest, auth: { zitadel: { rolePermissions } } };
      }
      try {
        zitadel = createVerifier(verifierOptions);
      } catch (e) {
        throw Object.assign(usageError(`handleRequest: ${e?.message ?? e}`), { cause: e });
      }
    }
    let camunda = null;
    if (auth.camunda !== undefined) {
      const c = auth.camunda;
      const bad = (why) => usageError(`handleRequest: options.auth.camunda: ${why}`);
      if (c === null || typeof c !== "object") throw bad("expected { zitadelClaim } or { identify }");
      for (const key of Object.keys(c)) if (key !== "zitadelClaim" && key !== "identify") throw bad(`${key}: unknown option (zitadelClaim, identify)`);
      if ((c.zitadelClaim === undefined) === (c.identify === undefined)) throw bad("give exactly one of zitadelClaim and identify");
      if (c.identify !== undefined && typeof c.identify !== "function") throw bad("identify: expected a function (request) => user id or null");
      if (c.zitadelClaim !== undefined && (typeof c.zitadelClaim !== "string" || c.zitadelClaim === "")) throw bad("zitadelClaim: expected a claim's name");
      if (c.zitadelClaim !== undefined && zitadel === null) throw bad("zitadelClaim needs options.auth.zitadel, which verifies the token it is read from");
      camunda = { claim: c.zitadelClaim ?? null, identify: c.identify ?? null };
    }
    const moduleOptions = Object.keys(rest).length > 0 ? rest : undefined;
    return { flags: (zitadel ? AUTH_ZITADEL : 0) | (camunda ? AUTH_CAMUNDA : 0), zitadel, camunda, moduleOptions };
  }

  /** The verifier's reasons as the module's identity codes. */
  const REFUSED = { missing: ID_MISSING, malformed: ID_MALFORMED, invalid: ID_INVALID, unavailable: ID_UNAVAILABLE };

  /** The request's `Authorization` header, or null. */
  function authorization(request) {
    const headers = read(request, "headers");
    const get = headers !== null && typeof headers === "object" ? read(headers, "get") : undefined;
    try {
      const value = typeof get === "function" ? get.call(headers, "authorization") : null;
      return typeof value === "string" ? value : null;
    } catch {
      return null;
    }
  }

  /**
   * The caller of a route of `peer` (1: Zitadel, from its bearer token; 2: Camunda): the
   * identity code and the user id.
   */
  async function establish(peer, request, auth) {
    const header = authorization(request);
    if (peer === 1 && auth.zitadel === null) {
      // No options for Zitadel: its 401 to everyone, worded as it words a token it cannot verify.
      return { code: header === null ? ID_MISSING : ID_INVALID, user: null };
    }
    if (peer === 1) {
      const verified = await auth.zitadel.verify(header);
      return verified.ok ? { code: ID_USER, user: verified.subject } : { code: REFUSED[verified.reason] ?? ID_INVALID, user: null };
    }
    if (auth.camunda === null) return { code: ID_MISSING, user: null };
    let user;
    if (auth.camunda.identify !== null) {
      user = await auth.camunda.identify(request);
    } else {
      const verified = await auth.zitadel.verify(header);
      if (!verified.ok) return { code: verified.reason === "unavailable" ? ID_UNAVAILABLE : ID_MISSING, user: null };
      user = verified.claims?.[auth.camunda.claim];
    }
    // Nobody (null, undefined, ""): Camunda's 401, never full rights.
    if (user === null || user === undefined || user === "") return { code: ID_MISSING, user: null };
    if (typeof user !== "string" || !wellFormed(user)) {
      throw usageError(`handleRequest: the Camunda caller must be a user id (a string) or null, found ${typeof user}`);
    }
    return { code: ID_USER, user };
  }

  /**
   * Serves `request`: its `Response` (with `trailers`, an array, filled with the answer's
   * trailers). Rejects only with `Error`s.
   */
  async function serve(snapshot, request, context, options, extraFlags, trailers) {
    initialized("handleRequest()");
    if (!usable(snapshot)) throw glue.__usageError(FREED);
    return keeping(snapshot, () => serveKept(snapshot, request, context, options, extraFlags, trailers));
  }

  /** `serve` on a snapshot that stays allocated until this settles. */
  async function serveKept(snapshot, request, context, options, extraFlags, trailers) {
    try {
      let auth = handlerAuth(options);
      if (auth instanceof Promise) auth = await auth; // the verifier, loaded the first time
      if (auth.flags !== TRUSTED && context !== undefined) {
        throw usageError("handleRequest: with AuthOptions the caller comes from the request: pass no context (a context goes with auth: \"trusted\")");
      }
      const flags = extraFlags | auth.flags;
      const head = readHead(request);
      head.push(null); // the caller's user id, once established
      const method = head[0];
      let body = method !== null && bodiless(method) ? NULL : BODY_LATER;
      let read = null;
      // A body of the default limit is read at once (one call for a trusted request).
      if (body === BODY_LATER && method !== null && head[1] !== null && head[3] === null && auth.moduleOptions === undefined) {
        read = await readBody(request, MAX_BODY);
        body = read === null ? TOO_LARGE : read.size;
      }
      let identity = 0;
      for (let round = 0; round < 3; round++) {
        // The texts each time: another request may have used the area while this one waited.
        putRequest(head, read?.chunks ?? NO_CHUNKS, read?.size ?? 0);
        const at = call(snapshot, body, flags, identity, context, auth.moduleOptions);
        if (words[at] !== 0) return toResponse(at, trailers);
        const [limit, peer] = [words[at + 1], words[at + 2]];
        const [gotBody, caller] = await Promise.all([limit === NULL ? undefined : readBody(request, limit), peer === 0 ? undefined : establish(peer, request, auth)]);
        if (limit !== NULL) [read, body] = [gotBody, gotBody === null ? TOO_LARGE : gotBody.size];
        if (peer !== 0) [identity, head[head.length - 1]] = [caller.code, caller.user];
      }
      throw new Error("identity-links: the module kept asking for the request's body or caller");
    } catch (e) {
      throw asError(e, "handleRequest failed");
    }
  }

  /** `handleRequest` (src/wasm/abi.rs, "An HTTP request"). */
  const handleRequest = (snapshot, request, context, options) => serve(snapshot, request, context, options, 0, undefined);
  /** For the Node listener: gRPC's trailers, which a fetch Response cannot carry, beside it. */
  handleRequest[WITH_TRAILERS] = async (snapshot, request, context, options) => {
    const trailers = [];
    const response = await serve(snapshot, request, context, options, TRAILERS, trailers);
    return { response, trailers };
  };
  /** For the Node listener: its options checked when it is made (throws the UsageError). */
  handleRequest[CHECK_OPTIONS] = (options, context) => {
    // Node's entry hands the verifier over itself, so this is not a promise there.
    const auth = handlerAuth(options);
    if (auth.flags !== TRUSTED && context !== undefined) {
      throw usageError("createNodeListener: with AuthOptions the caller comes from the request: give no context");
    }
    if (auth.moduleOptions !== undefined) glue.__checkOptions(auth.moduleOptions); // a UsageError naming a bad one
  };

  /**
   * `memoryUsage()` (API.md "Live updates"): the module's linear memory now, in bytes. Wasm
   * memory grows and never shrinks, so this is also the most the module has needed so far.
   */
  function memoryUsage() {
    return { wasmBytes: initialized("memoryUsage()").buffer.byteLength };
  }

  /** `deltaInfo(delta)` (API.md "Live updates"): the module reads the header; errors as thrown. */
  const deltaInfo = (delta) => {
    initialized("deltaInfo()");
    return glue.deltaInfo(delta);
  };

  /** A top-level query: the method, on a usable Snapshot. */
  const query = (name) => {
    const what = `${name}()`;
    return (snapshot, request, context) => {
      initialized(what);
      if (!usable(snapshot)) refuse();
      return snapshot[name](request, context);
    };
  };

  /** `isIdentityError`: false for anything before init (no IdentityError exists yet). */
  const isIdentityError = (value) => {
    try {
      initialized("isIdentityError()");
    } catch {
      return false;
    }
    return glue.isIdentityError(value);
  };

  // fromBytes is wasm-bindgen's own: the same clear Error before init as the other loaders.
  const directBytes = Snapshot.fromBytes;
  Snapshot.fromBytes = function fromBytes(data, options) {
    initialized("Snapshot.fromBytes()");
    return directBytes.call(this, data, options);
  };

  return {
    Snapshot,
    getIdentityLinks: query("getIdentityLinks"),
    getUserGroups: query("getUserGroups"),
    listIdpLinks: query("listIdpLinks"),
    getIdentityLinksJson: query("getIdentityLinksJson"),
    getUserGroupsJson: query("getUserGroupsJson"),
    listIdpLinksJson: query("listIdpLinksJson"),
    handleRequest,
    isIdentityError,
    memoryUsage,
    deltaInfo,
  };
}
