// The public API over wasm-bindgen's glue: fast paths for the common calls, the validating
// wasm methods for everything else.
//
// A trusted call (no context) with a well-formed request takes one call into wasm, which writes
// the answer as string symbols into a buffer (src/wasm/fast.rs); the objects are built here from
// a per-snapshot cache of JS strings, so a string crosses from wasm once, not once per answer.
// Any other call — a caller context, an unusual value, a query that fails — goes to the wasm
// methods, which validate everything and throw the exact IdentityError. Answers are identical
// either way (the packaging tests run every conformance case through both).

const NONE = 0xffffffff;
const ASSIGNEE = NONE - 1;
const OWNER = NONE - 2;

/** Whether `v` is a string that reaches wasm unchanged (lone surrogates would not). */
const wellFormed = (v) => typeof v === "string" && (v.isWellFormed === undefined || v.isWellFormed());

/** Wraps `glue` (wasm-bindgen's module): returns the package's exports. */
export function install(glue) {
  const { Snapshot } = glue;
  const proto = Snapshot.prototype;

  // A freed snapshot (or a foreign `this`) is a clear IdentityError, not wasm-bindgen's
  // "null pointer passed to rust": every method and getter checks first.
  const FREED = "This snapshot was freed (free() was called) or is not a Snapshot: load it again with Snapshot.fromJson, fromObject or fromBytes.";
  const usable = (snapshot) => snapshot instanceof Snapshot && snapshot.__wbg_ptr > 0;
  const refuse = () => {
    throw glue.__usageError(FREED);
  };
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
  if (typeof Symbol.dispose === "symbol") proto[Symbol.dispose] = proto.free;
  const validating = {
    getIdentityLinks: proto.getIdentityLinks,
    getUserGroups: proto.getUserGroups,
    listIdpLinks: proto.listIdpLinks,
  };
  const validatingJson = {
    getIdentityLinksJson: proto.getIdentityLinksJson,
    getUserGroupsJson: proto.getUserGroupsJson,
    listIdpLinksJson: proto.listIdpLinksJson,
  };
  let memory = null;
  // Views of wasm memory. When memory grows its buffer is replaced and these views detached
  // (length 0): `view()` makes new ones. The answer buffer never moves while JS reads it.
  let words = new Uint32Array(0);
  let bytes = new Uint8Array(0);
  function view() {
    if (words.length === 0) {
      const buffer = (memory ??= glue.__memory()).buffer;
      words = new Uint32Array(buffer);
      bytes = new Uint8Array(buffer);
    }
    return words;
  }

  // The input buffer in wasm memory, where a request's strings are written (src/wasm/fast.rs).
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let input = 0;
  let inputSize = 0;
  let firstLength = 0;
  let secondLength = 0;

  /** UTF-8 of `text` at `at` (ASCII by hand, the rest by encodeInto); returns its length. */
  function write(text, at) {
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return encoder.encodeInto(text, bytes.subarray(at, at + 3 * n)).written;
      bytes[at + i] = c;
    }
    return n;
  }

  /** Writes a request's strings (`second` may be null) for the next fast call. */
  function put(first, second) {
    const needed = 3 * (first.length + (second === null ? 0 : second.length));
    if (needed > inputSize) {
      inputSize = Math.max(needed, 1024);
      input = glue.__input(inputSize);
      words = new Uint32Array(0); // the call may have grown memory
    }
    view();
    firstLength = write(first, input);
    secondLength = second === null ? NONE : write(second, input + firstLength);
  }

  /** A JSON body answered at `address` (`[address, length]` of its UTF-8), as a string. */
  function json(address) {
    const k = start(address);
    return decoder.decode(bytes.subarray(words[k], words[k] + words[k + 1]));
  }

  /** The index in `view()` of the answer's first word (after its length). */
  const start = (address) => (view(), (address >>> 2) + 1);

  /**
   * The JS string of a symbol, cached per snapshot in a dense array (sized once, so V8 keeps
   * fast elements; a sparse one would fall back to a dictionary).
   */
  function text(snapshot, sym) {
    const cache = snapshot.__strings ?? (snapshot.__strings = new Array(snapshot.__stringCount()));
    const hit = cache[sym];
    if (hit !== undefined) return hit;
    cache[sym] = snapshot.__string(sym);
    view(); // the call may have grown wasm memory
    return cache[sym];
  }
  const nullable = (snapshot, sym) => (sym === NONE ? null : text(snapshot, sym));

  // Staging, shared by the object and the JSON-text methods: whether a call can take the fast
  // path (no context, plain values), and if so its strings written to the input buffer.
  const trusted = (request, context) => context === undefined && request !== null && typeof request === "object";

  function stageLinks(request, context) {
    if (!trusted(request, context) || !wellFormed(request.taskId)) return false;
    const type = request.type;
    if (type !== undefined && type !== null && !wellFormed(type)) return false;
    put(request.taskId, type ?? null);
    return true;
  }

  function stageUser(request, context) {
    if (!trusted(request, context) || !wellFormed(request.userId)) return false;
    put(request.userId, null);
    return true;
  }

  /** A listIdpLinks call's plain paging (whole, in-range numbers) once staged, or null. */
  function stageIdp(request, context) {
    if (!trusted(request, context) || !wellFormed(request.userId)) return null;
    const query = request.query ?? {};
    if (query === null || typeof query !== "object" || Array.isArray(query)) return null;
    const { offset = 0, limit = 0, asc = false } = query;
    const plain = Number.isSafeInteger(offset) && offset >= 0 && Number.isInteger(limit) && limit >= 0 && limit <= NONE && typeof asc === "boolean";
    if (!plain) return null;
    put(request.userId, null);
    return { offset, limit, asc };
  }

  proto.getIdentityLinks = function getIdentityLinks(request, context) {
    if (!usable(this)) refuse();
    const address = stageLinks(request, context) ? this.__links(firstLength, secondLength) : 0;
    if (address === 0) return validating.getIdentityLinks.call(this, request, context);
    let k = start(address);
    const links = new Array(words[k++]);
    for (let i = 0; i < links.length; i++, k += 3) {
      const userId = nullable(this, words[k]);
      const groupId = nullable(this, words[k + 1]);
      const kind = words[k + 2];
      links[i] = { userId, groupId, type: kind === ASSIGNEE ? "assignee" : kind === OWNER ? "owner" : text(this, kind) };
    }
    return links;
  };

  proto.getUserGroups = function getUserGroups(request, context) {
    if (!usable(this)) refuse();
    const address = stageUser(request, context) ? this.__groups(firstLength) : 0;
    if (address === 0) return validating.getUserGroups.call(this, request, context);
    let k = start(address);
    const groups = new Array(words[k++]);
    for (let i = 0; i < groups.length; i++, k += 2) {
      const id = text(this, words[k]);
      groups[i] = { id, name: nullable(this, words[k + 1]) };
    }
    const groupUsers = new Array(words[k++]);
    for (let i = 0; i < groupUsers.length; i++, k += 3) {
      const firstName = nullable(this, words[k]);
      const lastName = nullable(this, words[k + 1]);
      const id = text(this, words[k + 2]);
      // Java's concatenation: a null firstName prints as "null" (SEMANTICS.md G4).
      const displayName = lastName !== null ? `${firstName} ${lastName}` : firstName ?? id;
      groupUsers[i] = { firstName, lastName, displayName, id };
    }
    return { groups, groupUsers };
  };

  proto.listIdpLinks = function listIdpLinks(request, context) {
    if (!usable(this)) refuse();
    const paging = stageIdp(request, context);
    const address = paging === null ? 0 : this.__idp(firstLength, paging.offset, paging.limit, paging.asc);
    if (address === 0) return validating.listIdpLinks.call(this, request, context);
    let k = start(address);
    const total = words[k++];
    const count = words[k++];
    const details = {};
    if (total !== 0) details.totalResult = String(total);
    const sequence = (this.__sequence ??= this.sequence);
    if (sequence !== "0") details.processedSequence = sequence;
    details.timestamp = this.__timestamp ??= this.timestamp; // may grow memory: read first
    view();
    const answer = { details };
    if (count !== 0) {
      const result = new Array(count);
      for (let i = 0; i < count; i++, k += 3) {
        const idpId = text(this, words[k]);
        const userId = text(this, words[k + 1]);
        const userName = text(this, words[k + 2]);
        result[i] = userName === "" ? { idpId, userId } : { idpId, userId, userName };
      }
      answer.result = result;
    }
    return answer;
  };

  proto.getIdentityLinksJson = function getIdentityLinksJson(request, context) {
    if (!usable(this)) refuse();
    const address = stageLinks(request, context) ? this.__json(0, firstLength, secondLength, 0, 0, false) : 0;
    return address !== 0 ? json(address) : validatingJson.getIdentityLinksJson.call(this, request, context);
  };

  proto.getUserGroupsJson = function getUserGroupsJson(request, context) {
    if (!usable(this)) refuse();
    const address = stageUser(request, context) ? this.__json(1, firstLength, NONE, 0, 0, false) : 0;
    return address !== 0 ? json(address) : validatingJson.getUserGroupsJson.call(this, request, context);
  };

  proto.listIdpLinksJson = function listIdpLinksJson(request, context) {
    if (!usable(this)) refuse();
    const paging = stageIdp(request, context);
    const address = paging === null ? 0 : this.__json(2, firstLength, NONE, paging.offset, paging.limit, paging.asc);
    return address !== 0 ? json(address) : validatingJson.listIdpLinksJson.call(this, request, context);
  };

  /** A top-level query: the method, on a usable Snapshot. */
  const query = (name) => (snapshot, request, context) => {
    if (!usable(snapshot)) refuse();
    return snapshot[name](request, context);
  };

  return {
    Snapshot,
    getIdentityLinks: query("getIdentityLinks"),
    getUserGroups: query("getUserGroups"),
    listIdpLinks: query("listIdpLinks"),
    getIdentityLinksJson: query("getIdentityLinksJson"),
    getUserGroupsJson: query("getUserGroupsJson"),
    listIdpLinksJson: query("listIdpLinksJson"),
    handleRequest: (snapshot, request, context) => {
      if (!usable(snapshot)) return Promise.reject(glue.__usageError(FREED));
      return glue.handleRequest(snapshot, request, context);
    },
    isIdentityError: glue.isIdentityError,
  };
}
