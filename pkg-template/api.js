// The public API over wasm-bindgen's glue: fast paths for the common calls, the validating
// wasm methods for everything else.
//
// A trusted call (no context) with a well-formed request takes a fast path: getIdentityLinks and
// listIdpLinks read the snapshot's directories in wasm memory directly (no call into wasm: a
// directory's index is probed with its own hash, computed here, and one record holds the answer;
// src/snapshot/directory.rs), getUserGroups makes one call that writes the answer as string
// symbols (src/wasm/fast.rs). Objects and JSON text are built here from
// per-snapshot caches of JS strings, so a string is decoded once, not once per answer.
// Any other call — a caller context, an unusual value, a query that fails — goes to the wasm
// methods, which validate everything and throw the exact IdentityError. Answers are identical
// either way (the packaging tests run every conformance case through both).

const NONE = 0xffffffff;
/** `find`'s answer for a string that cannot be looked up: it is not Unicode. */
const FOREIGN = -1;

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
  // (length 0): `view()` makes new ones. Snapshot tables never move while the snapshot lives.
  let words = new Uint32Array(0);
  let bytes = new Uint8Array(0);
  let memory32 = new DataView(new ArrayBuffer(0)); // unaligned little-endian words
  // The hot paths' helpers are small enough for V8 to inline them always; their rare work
  // (new views, a first decoding, a first layout) is in separate functions.
  const view = () => (words.length === 0 ? renewViews() : words);
  function renewViews() {
    const buffer = (memory ??= glue.__memory()).buffer;
    words = new Uint32Array(buffer);
    bytes = new Uint8Array(buffer);
    memory32 = new DataView(buffer);
    return words;
  }

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  /** UTF-8 of `text` into `target` from `at` (ASCII by hand, the rest by encodeInto): its length. */
  function encode(text, target, at) {
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return encoder.encodeInto(text, target.subarray(at, at + 3 * n)).written;
      target[at + i] = c;
    }
    return n;
  }

  // --- Lookups in the snapshot's own tables, without a call into wasm (src/wasm/fast.rs).

  /**
   * What the fast paths need of a snapshot, computed once: its table addresses (`__layout`) as
   * word indexes into `view()`, its sequence and timestamp, and the string caches.
   */
  const layout = (snapshot) => snapshot.__tables ?? computeLayout(snapshot);
  function computeLayout(snapshot) {
    const sequence = snapshot.sequence; // first: these calls may grow memory
    const timestamp = snapshot.timestamp;
    const at = (snapshot.__layout() >>> 2) + 1;
    const w = view();
    const word = (i) => w[at + i] >>> 2;
    const tables = {
      text: w[at], ends: word(1), strings: w[at + 2], slots: word(3), mask: w[at + 4] - 1,
      // The directories of tasks and of users' IdP links (src/snapshot/directory.rs).
      taskSlots: word(5), taskMask: w[at + 6] - 1, taskRecords: word(7),
      userSlots: word(8), userMask: w[at + 9] - 1, userRecords: word(10),
      defaultLimit: w[at + 11], maxLimit: w[at + 12],
      sequence, timestamp,
      // `"processedSequence":"…","timestamp":"…"}` of listIdpLinks' JSON details (Z7).
      detailsTail: `${sequence !== "0" ? `"processedSequence":${JSON.stringify(sequence)},` : ""}"timestamp":${JSON.stringify(timestamp)}}`,
      texts: new Array(w[at + 2]), // JS strings by symbol, filled on first use
      quoted: new Array(w[at + 2]), // their JSON.stringify forms
      kinds: new Map(), // link types asked for, by their symbols (`kindOf`)
    };
    snapshot.__tables = tables;
    return tables;
  }

  const K = 0x9e3779b1;
  /** One step of the index's hash (`slot_hash` in src/snapshot/strings.rs): a 4-byte word. */
  const mix = (h, word) => {
    const m = Math.imul(h ^ word, K);
    return (m << 15) | (m >>> 17);
  };

  // The request string's UTF-8 as little-endian 4-byte words (the hash's input), kept for the
  // comparison with a candidate's stored bytes: a word at a time, not a byte at a time.
  let keyWords = new Uint32Array(64);
  let keyTail = 0; // the last 1–3 bytes as one word, 0 when the length is a multiple of 4

  let keyLength = 0; // in bytes; -1 for text that is not Unicode

  /**
   * Hashes `text`'s UTF-8 into `keyWords`, `keyTail` and `keyLength`: the hash before its
   * finalizer (which `probe` and `findRecord` apply). ASCII text (UTF-8 as it is) is read
   * straight from its char codes; other text is encoded first (`hashUtf8`).
   */
  function hashKey(text) {
    const n = text.length;
    if (keyWords.length < n >>> 2) keyWords = new Uint32Array(n >>> 2);
    let h = Math.imul(n, K);
    let i = 0;
    for (let j = 0; i + 4 <= n; i += 4, j++) {
      const a = text.charCodeAt(i);
      const b = text.charCodeAt(i + 1);
      const c = text.charCodeAt(i + 2);
      const d = text.charCodeAt(i + 3);
      if ((a | b | c | d) > 0x7f) return hashUtf8(text);
      h = mix(h, (keyWords[j] = a | (b << 8) | (c << 16) | (d << 24)));
    }
    keyTail = 0;
    if (i < n) {
      for (let shift = 0; i < n; i++, shift += 8) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) return hashUtf8(text);
        keyTail |= c << shift;
      }
      h = mix(h, keyTail);
    }
    keyLength = n;
    return h;
  }

  let key = new Uint8Array(256); // a non-ASCII request string's UTF-8

  /** [`hashKey`] for text beyond ASCII; a keyLength of -1 for text with a lone surrogate. */
  function hashUtf8(text) {
    keyLength = -1;
    if (!wellFormed(text)) return 0;
    if (key.length < 3 * text.length) key = new Uint8Array(3 * text.length);
    const n = encoder.encodeInto(text, key).written;
    if (keyWords.length < n >>> 2) keyWords = new Uint32Array(n >>> 2);
    let h = Math.imul(n, K);
    let i = 0;
    for (let j = 0; i + 4 <= n; i += 4, j++) h = mix(h, (keyWords[j] = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24)));
    keyTail = 0;
    if (i < n) {
      for (let shift = 0; i < n; i++, shift += 8) keyTail |= key[i] << shift;
      h = mix(h, keyTail);
    }
    keyLength = n;
    return h;
  }

  /** The symbol of `text` in the snapshot's string index, NONE, or FOREIGN (not Unicode). */
  function find(t, text) {
    const h = hashKey(text);
    return keyLength < 0 ? FOREIGN : probe(t, h, keyLength);
  }

  /**
   * The symbol whose text is the `n` bytes of the key, or NONE: `h`, the key's hash before its
   * murmur3 finalizer, gives the slot to probe from, linearly to an empty one.
   */
  function probe(t, h, n) {
    if (t.mask < 0) return NONE;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    const hash = h ^ (h >>> 16);
    const w = view();
    const full = n >>> 2;
    // At most one pass over the slots: the index always has an empty one, but a bound keeps a
    // bug from looping forever.
    for (let slot = hash & t.mask, probes = 0; probes <= t.mask; slot = (slot + 1) & t.mask, probes++) {
      const sym = w[t.slots + slot];
      if (sym === NONE) return NONE;
      const start = sym === 0 ? 0 : w[t.ends + sym - 1];
      if (w[t.ends + sym] - start === n && holdsKey(t.text + start, full, n)) return sym;
    }
    return NONE;
  }

  /**
   * The index in `view()` of the body of the record (src/snapshot/directory.rs) whose id is
   * `text`, NONE, or FOREIGN: [`probe`] in a directory's own index (`slots`, `mask`), comparing
   * the key with the id's bytes in the record (aligned words: no reads elsewhere).
   */
  function findRecord(slots, mask, records, text) {
    let h = hashKey(text);
    const n = keyLength;
    if (n < 0) return FOREIGN;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    const hash = h ^ (h >>> 16);
    const w = view();
    const full = n >>> 2;
    for (let slot = hash & mask, probes = 0; probes <= mask; slot = (slot + 1) & mask, probes++) {
      const at = w[slots + slot];
      if (at === NONE) return NONE;
      const record = records + at;
      if (w[record] === n && holdsWords(record + 1, full, n)) return record + 1 + ((n + 3) >>> 2);
    }
    return NONE;
  }

  /** Whether the words of wasm memory from word `at` are the key's (its tail zero-padded). */
  function holdsWords(at, full, n) {
    const w = words;
    for (let k = 0; k < full; k++) if (w[at + k] !== keyWords[k]) return false;
    return (n & 3) === 0 || w[at + full] === keyTail;
  }

  /** Whether the `n` bytes of wasm memory at `from` are the key (`full` words, then the tail). */
  function holdsKey(from, full, n) {
    let k = 0;
    for (; k < full; k++) if (memory32.getUint32(from + 4 * k, true) !== keyWords[k]) return false;
    let tail = 0;
    for (let at = 4 * full, shift = 0; at < n; at++, shift += 8) tail |= bytes[from + at] << shift;
    return tail === keyTail;
  }


  /** The JS string of a symbol, decoded from the string text once per snapshot. */
  const text = (t, sym) => t.texts[sym] ?? decode(t, sym);
  function decode(t, sym) {
    const w = view();
    const start = sym === 0 ? 0 : w[t.ends + sym - 1];
    return (t.texts[sym] = decoder.decode(bytes.subarray(t.text + start, t.text + w[t.ends + sym])));
  }
  const nullable = (t, sym) => (sym === NONE ? null : text(t, sym));
  const quoted = (t, sym) => t.quoted[sym] ?? (t.quoted[sym] = JSON.stringify(text(t, sym)));
  const quotedOrNull = (t, sym) => (sym === NONE ? "null" : quoted(t, sym));

  // --- The fast paths: whether a call can take one (no context, plain values), and its answer.
  // listIdpLinks stages its page's rows in `found`, shared by the object and JSON-text methods.

  let found = new Uint32Array(1024);
  const room = (n) => {
    if (found.length < n) found = new Uint32Array(Math.max(n, 2 * found.length));
  };
  let total = 0; // listIdpLinks: the user's links when the page is not empty (Z6)

  const trusted = (request, context) => context === undefined && request !== null && typeof request === "object";

  /**
   * getIdentityLinks on the fast path: the answer as objects, or as JSON text when `json`;
   * undefined when the call is not for the fast path (the validating path answers or throws).
   * Stored links in snapshot order, then the assignee, then the owner, each kept only if its
   * type equals the filter (SEMANTICS.md C3, C4).
   */
  function answerLinks(snapshot, request, context, json) {
    if (!trusted(request, context)) return undefined;
    const taskId = request.taskId;
    const type = request.type ?? null;
    if (typeof taskId !== "string" || (type !== null && typeof type !== "string")) return undefined;
    const t = layout(snapshot);
    const task = findRecord(t.taskSlots, t.taskMask, t.taskRecords, taskId);
    if (task === NONE || task === FOREIGN) return undefined; // unknown task: the validating path throws
    const wanted = type === null ? NONE : kindOf(t, type); // NONE matches no stored link
    if (wanted === FOREIGN) return undefined;
    return json ? linksJson(t, task, type, wanted) : linksObjects(t, task, type, wanted);
  }

  /**
   * The symbol of a link type asked for, remembered per snapshot: requests name a handful of
   * types again and again. At most 64 are kept, so arbitrary strings cannot grow it.
   */
  function kindOf(t, type) {
    const known = t.kinds.get(type);
    if (known !== undefined) return known;
    const sym = find(t, type);
    if (t.kinds.size < 64 && sym !== FOREIGN) t.kinds.set(type, sym);
    return sym;
  }

  // A task record's body: n, assignee, owner, then n (link_ref, link_type) pairs.

  /**
   * getIdentityLinks' answer from the task record body at `task`, as objects; `wanted` is
   * `type`'s symbol. Without a filter the answer's length is known: the array is made at that
   * length and filled, not grown as it is pushed to (a tenth of the query's time at S). Every
   * link is the same object literal — same keys, same order — so all have one shape (map).
   */
  function linksObjects(t, task, type, wanted) {
    const w = view();
    const texts = t.texts;
    const n = w[task];
    const assignee = w[task + 1];
    const owner = w[task + 2];
    if (type === null) {
      const links = new Array(n + (assignee !== NONE ? 1 : 0) + (owner !== NONE ? 1 : 0));
      let i = 0;
      for (let k = task + 3, end = k + 2 * n; k < end; k += 2) {
        const ref = w[k];
        const kind = w[k + 1];
        const id = texts[ref] ?? text(t, ref);
        const group = (kind & 1) === 1;
        links[i++] = { userId: group ? null : id, groupId: group ? id : null, type: texts[kind >>> 1] ?? text(t, kind >>> 1) };
      }
      if (assignee !== NONE) links[i++] = { userId: text(t, assignee), groupId: null, type: "assignee" };
      if (owner !== NONE) links[i] = { userId: text(t, owner), groupId: null, type: "owner" };
      return links;
    }
    const links = [];
    for (let k = task + 3, end = k + 2 * n; k < end; k += 2) {
      const ref = w[k];
      const kind = w[k + 1];
      if (kind >>> 1 !== wanted) continue;
      const id = texts[ref] ?? text(t, ref);
      const group = (kind & 1) === 1;
      links.push({ userId: group ? null : id, groupId: group ? id : null, type: texts[kind >>> 1] ?? text(t, kind >>> 1) });
    }
    if (assignee !== NONE && type === "assignee") links.push({ userId: text(t, assignee), groupId: null, type: "assignee" });
    if (owner !== NONE && type === "owner") links.push({ userId: text(t, owner), groupId: null, type: "owner" });
    return links;
  }

  /** The same answer as JSON text (Jackson's key order, nulls written). */
  function linksJson(t, task, type, wanted) {
    const w = view();
    let out = "[";
    for (let k = task + 3, end = k + 2 * w[task]; k < end; k += 2) {
      const kind = w[k + 1];
      if (type !== null && kind >>> 1 !== wanted) continue;
      const id = quoted(t, w[k]);
      const link = kind & 1 ? `{"userId":null,"groupId":${id}` : `{"userId":${id},"groupId":null`;
      out += `${out.length === 1 ? "" : ","}${link},"type":${quoted(t, kind >>> 1)}}`;
    }
    const assignee = w[task + 1];
    if (assignee !== NONE && (type === null || type === "assignee")) out += `${out.length === 1 ? "" : ","}{"userId":${quoted(t, assignee)},"groupId":null,"type":"assignee"}`;
    const owner = w[task + 2];
    if (owner !== NONE && (type === null || type === "owner")) out += `${out.length === 1 ? "" : ","}{"userId":${quoted(t, owner)},"groupId":null,"type":"owner"}`;
    return `${out}]`;
  }

  /**
   * listIdpLinks: the page's links in `found` (where each one's `idp_id, provided_id,
   * provided_name` symbols are in `view()`) and `total` set; their count, or -1. A freed
   * snapshot is refused first.
   */
  function stageIdp(snapshot, request, context) {
    if (!usable(snapshot)) refuse();
    if (!trusted(request, context)) return -1;
    const userId = request.userId;
    // 1..=200 runes (Z2): shorter UTF-16 is surely within; the rest is left to the validating path.
    if (typeof userId !== "string" || userId.length === 0 || userId.length > 200) return -1;
    const query = request.query ?? {};
    if (query === null || typeof query !== "object" || Array.isArray(query)) return -1;
    const { offset = 0, limit = 0, asc = false } = query;
    const plain = Number.isSafeInteger(offset) && offset >= 0 && Number.isInteger(limit) && limit >= 0 && limit <= NONE && typeof asc === "boolean";
    if (!plain) return -1;
    const t = layout(snapshot);
    // Zitadel checks the maximum first, then falls back to the default; 0 disables either (Z3).
    if (t.maxLimit > 0 && limit > t.maxLimit) return -1;
    const size = limit === 0 ? (t.defaultLimit === 0 ? Infinity : t.defaultLimit) : limit;
    // A user's record body: n, then n (idp_id, provided_id, provided_name) in creation order;
    // users without IdP links have no record, and an empty page as an unknown user.
    const user = findRecord(t.userSlots, t.userMask, t.userRecords, userId);
    if (user === FOREIGN) return -1;
    const links = user === NONE ? 0 : view()[user];
    const skip = Math.min(offset, links);
    const take = Math.min(size, links - skip);
    total = take === 0 ? 0 : links;
    room(take);
    // Newest first unless asc (Z5).
    const first = user + 1;
    if (asc) for (let i = 0; i < take; i++) found[i] = first + 3 * (skip + i);
    else for (let i = 0, k = links - skip - 1; i < take; i++, k--) found[i] = first + 3 * k;
    return take;
  }


  /**
   * getUserGroups: the index in `view()` of the answer's symbols (`__groups`), or 0 when the
   * call is for the validating path. A freed snapshot is refused first.
   */
  function stageUser(snapshot, request, context) {
    if (!usable(snapshot)) refuse();
    if (!trusted(request, context) || !wellFormed(request.userId)) return 0;
    const userId = request.userId;
    layout(snapshot); // first: `__layout` answers in the same buffer as `__groups`
    // The input buffer in wasm memory (src/wasm/fast.rs), asked for each time: a call that
    // grows it may move it (a getUserGroups call costs microseconds; this is one more call).
    const input = glue.__input(3 * userId.length);
    words = new Uint32Array(0); // the call may have grown memory
    view();
    const address = snapshot.__groups(encode(userId, bytes, input));
    words = new Uint32Array(0); // the call may have grown memory
    view();
    return address === 0 ? 0 : (address >>> 2) + 1;
  }

  /** The `details` of a listIdpLinks answer for the page staged last (Z7). */
  function details(t) {
    const out = {};
    if (total !== 0) out.totalResult = String(total);
    if (t.sequence !== "0") out.processedSequence = t.sequence;
    out.timestamp = t.timestamp;
    return out;
  }

  proto.getIdentityLinks = function getIdentityLinks(request, context) {
    if (!usable(this)) refuse();
    return answerLinks(this, request, context, false) ?? validating.getIdentityLinks.call(this, request, context);
  };

  proto.getIdentityLinksJson = function getIdentityLinksJson(request, context) {
    if (!usable(this)) refuse();
    return answerLinks(this, request, context, true) ?? validatingJson.getIdentityLinksJson.call(this, request, context);
  };

  proto.getUserGroups = function getUserGroups(request, context) {
    let k = stageUser(this, request, context); // refuses a freed snapshot
    if (k === 0) return validating.getUserGroups.call(this, request, context);
    const t = this.__tables;
    const w = words;
    const groups = new Array(w[k++]);
    for (let i = 0; i < groups.length; i++, k += 2) {
      const id = text(t, w[k]);
      groups[i] = { id, name: nullable(t, w[k + 1]) };
    }
    const groupUsers = new Array(w[k++]);
    for (let i = 0; i < groupUsers.length; i++, k += 3) {
      const firstName = nullable(t, w[k]);
      const lastName = nullable(t, w[k + 1]);
      const id = text(t, w[k + 2]);
      // Java's concatenation: a null firstName prints as "null" (SEMANTICS.md G4).
      const displayName = lastName !== null ? `${firstName} ${lastName}` : firstName ?? id;
      groupUsers[i] = { firstName, lastName, displayName, id };
    }
    return { groups, groupUsers };
  };

  proto.getUserGroupsJson = function getUserGroupsJson(request, context) {
    let k = stageUser(this, request, context); // refuses a freed snapshot
    if (k === 0) return validatingJson.getUserGroupsJson.call(this, request, context);
    const t = this.__tables;
    const w = words;
    let out = '{"groups":[';
    for (let i = 0, n = w[k++]; i < n; i++, k += 2) {
      out += `${i === 0 ? "" : ","}{"id":${quoted(t, w[k])},"name":${quotedOrNull(t, w[k + 1])}}`;
    }
    out += '],"groupUsers":[';
    for (let i = 0, n = w[k++]; i < n; i++, k += 3) {
      const first = w[k];
      const last = w[k + 1];
      const id = w[k + 2];
      // JSON escaping works character by character: the escaped concatenation is the
      // concatenation of the escaped parts (SEMANTICS.md G4: "null" for a null firstName).
      const displayName =
        last !== NONE ? `${first === NONE ? '"null' : quoted(t, first).slice(0, -1)} ${quoted(t, last).slice(1)}` : quoted(t, first === NONE ? id : first);
      out += `${i === 0 ? "" : ","}{"firstName":${quotedOrNull(t, first)},"lastName":${quotedOrNull(t, last)},"displayName":${displayName},"id":${quoted(t, id)}}`;
    }
    return out + "]}";
  };

  proto.listIdpLinks = function listIdpLinks(request, context) {
    const n = stageIdp(this, request, context); // refuses a freed snapshot
    if (n < 0) return validating.listIdpLinks.call(this, request, context);
    const t = this.__tables;
    const w = words;
    const answer = { details: details(t) };
    if (n !== 0) {
      const result = new Array(n);
      for (let i = 0; i < n; i++) {
        const row = found[i];
        const idpId = text(t, w[row]);
        const userId = text(t, w[row + 1]);
        const userName = text(t, w[row + 2]);
        result[i] = userName === "" ? { idpId, userId } : { idpId, userId, userName };
      }
      answer.result = result;
    }
    return answer;
  };

  proto.listIdpLinksJson = function listIdpLinksJson(request, context) {
    const n = stageIdp(this, request, context); // refuses a freed snapshot
    if (n < 0) return validatingJson.listIdpLinksJson.call(this, request, context);
    const t = this.__tables;
    const w = words;
    let out = total !== 0 ? `{"details":{"totalResult":"${total}",${t.detailsTail}` : `{"details":{${t.detailsTail}`;
    if (n !== 0) {
      out += ',"result":[';
      for (let i = 0; i < n; i++) {
        const row = found[i];
        const name = w[row + 2];
        const userName = text(t, name) === "" ? "" : `,"userName":${quoted(t, name)}`;
        out += `${i === 0 ? "" : ","}{"idpId":${quoted(t, w[row])},"userId":${quoted(t, w[row + 1])}${userName}}`;
      }
      out += "]";
    }
    return out + "}";
  };

  // --- fromJson through a throwaway instance (src/wasm/scratch.rs): the text is loaded in a
  // fresh instance of the compiled module and comes back as the binary form, which this instance
  // reads with fromBytes — so the input's copy and the loader's working memory never enter the
  // long-lived memory, which wasm cannot shrink. Answers are identical (fromBytes(toBytes())
  // answers every query identically); any refusal, or a runtime that cannot make the instance,
  // takes the direct path, which throws the exact IdentityError.
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

  /** The binary form of JSON `text` loaded in a throwaway instance (a view of its memory), or null. */
  function loadElsewhere(text, maxBytes) {
    const compiled = glue.__module?.();
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
      const address = scratch.__jsonToBytes(length, maxBytes) >>> 2;
      if (address === 0) return null;
      const [from, size] = new Uint32Array(scratch.memory.buffer, address * 4, 2);
      return new Uint8Array(scratch.memory.buffer, from, size); // fromBytes copies it piece by piece
    } catch {
      return null; // no memory for a second instance, or a runtime that refuses one
    }
  }

  Snapshot.fromJson = function fromJson(text, options) {
    const wellFormedText = wellFormed(text) && text.isWellFormed !== undefined;
    if (!wellFormedText && !(text instanceof Uint8Array)) return direct(text, options);
    // Options are refused exactly as the direct path refuses them, by a load of the smallest
    // snapshot — unless maxBytes is not a number or too small for it: the direct path then.
    const maxBytes = options?.maxBytes ?? 1 << 30;
    if (typeof maxBytes !== "number" || maxBytes < SMALLEST.length) return direct(text, options);
    direct(SMALLEST, options).free();
    const bytes = text.length <= maxBytes ? loadElsewhere(text, maxBytes) : null;
    if (bytes === null) return direct(text, options);
    return Snapshot.fromBytes(bytes, { defaultLimit: options?.defaultLimit, maxLimit: options?.maxLimit, maxBytes: 0xffffffff });
  };

  // fromObject is JSON.stringify, then fromJson: the same way round. What JSON cannot hold goes
  // to the direct path, which refuses it with its exact IdentityError.
  const directObject = Snapshot.fromObject;
  Snapshot.fromObject = function fromObject(data, options) {
    let text;
    try {
      text = JSON.stringify(data);
    } catch {
      return directObject(data, options);
    }
    return typeof text === "string" ? Snapshot.fromJson(text, options) : directObject(data, options);
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
