/**
 * identity-links: Camunda's and Zitadel's identity queries answered from an in-memory snapshot,
 * with exactly the peer servers' bodies, orders, nulls and errors.
 *
 * The typings need no particular lib: `Request`, `Response`, `URL` and `WebAssembly.Module` are
 * the ones the program's libs declare (the `dom` lib, `@types/node`, Deno's or workerd's types),
 * and structural stand-ins where none does.
 */

declare global {
  // `Symbol.dispose` (explicit resource management), declared as @types/node does so that the
  // typings compile with or without the `esnext.disposable` lib.
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** A snapshot document (SNAPSHOT.md): the read model the three queries answer from. */
export interface SnapshotData {
  /** Must be 1. */
  version: 1;
  /** Zitadel's `processedSequence`: a uint64 as a decimal string or a JSON integer. Default `"0"`. */
  sequence?: string | number;
  /** RFC 3339, any offset; rendered back in UTC. Default `"0001-01-01T00:00:00Z"`. */
  timestamp?: string;
  users?: SnapshotUser[];
  groups?: SnapshotGroup[];
  memberships?: SnapshotMembership[];
  tasks?: SnapshotTask[];
  idpLinks?: SnapshotIdpLink[];
  /** Camunda's `ACT_RU_AUTHORIZATION` rows, for the handler's authorization (docs/semantics.md). */
  authorizations?: SnapshotAuthorization[];
  /** Camunda's authorization flag (`authorizationEnabled` of the engine). Default `false`. */
  authorizationEnabled?: boolean;
  /** Zitadel's memberships (instance, organisation, project), for the handler's authorization. */
  zitadelMembers?: SnapshotZitadelMember[];
}

/** A row of `users` (Camunda's `ACT_ID_USER`). */
export interface SnapshotUser {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  /** The Zitadel organisation owning the user, for access control. */
  org?: string | null;
}

/** A row of `groups` (Camunda's `ACT_ID_GROUP`). */
export interface SnapshotGroup {
  id: string;
  name?: string | null;
  /** The source database's order of groups (0–4294967294, ascending): on every group or none. */
  rank?: number;
}

/** A row of `memberships` (Camunda's `ACT_ID_MEMBERSHIP`); both ids must exist. */
export interface SnapshotMembership {
  userId: string;
  groupId: string;
  /** The source database's order of the group's members (0–4294967294, ascending): on every membership or none. */
  rank?: number;
}

/** A row of `tasks` (Camunda's `ACT_RU_TASK`) with its stored identity links. */
export interface SnapshotTask {
  id: string;
  assignee?: string | null;
  owner?: string | null;
  /** The key of the task's process definition (Camunda's `ACT_RE_PROCDEF.KEY_`), for authorization. */
  processDefinitionKey?: string | null;
  identityLinks?: SnapshotIdentityLink[];
}

/** A stored identity link: exactly one of `userId` and `groupId` is set. */
export type SnapshotIdentityLink =
  | { userId: string; groupId?: null; type: string }
  | { userId?: null; groupId: string; type: string };

/** A row of `idpLinks` (Zitadel's user IdP-link projection), in creation order. */
export interface SnapshotIdpLink {
  /** The owning user; must exist in `users`. */
  userId: string;
  idpId: string;
  providedUserId: string;
  /** May be empty (the IdP gave no name). */
  providedUserName: string;
}

/**
 * A row of `authorizations` (Camunda's `ACT_RU_AUTHORIZATION`): a global row (`type` 0) has
 * `userId: "*"`; a grant (1) or revoke (2) exactly one of `userId` and `groupId`.
 */
export type SnapshotAuthorization = {
  type: 0 | 1 | 2;
  /** 1 User, 2 Group, 6 ProcessDefinition, 7 Task. */
  resourceType: 1 | 2 | 6 | 7;
  resourceId: string;
  /** `PERMS_`, a Java `int` (negative allowed). */
  permissions: number;
} & ({ userId: string; groupId?: never } | { userId?: never; groupId: string });

/** A row of `zitadelMembers`: no `org`, an instance membership; `project` needs `org`. */
export interface SnapshotZitadelMember {
  userId: string;
  org?: string;
  project?: string;
  roles: string[];
}

/** Options of a loaded snapshot. */
export interface SnapshotOptions {
  /** Zitadel's page size when `limit` is 0 or absent. Default 100; 0: no limit (all rows). */
  defaultLimit?: number;
  /** Zitadel's largest `limit`; larger ones are an error. Default 1000; 0: no maximum. */
  maxLimit?: number;
  /** The largest snapshot accepted, JSON text or binary form, in bytes. Default 1 GiB. */
  maxBytes?: number;
}

/** Row counts of a loaded snapshot. */
export interface SnapshotStats {
  users: number;
  groups: number;
  memberships: number;
  tasks: number;
  /** Stored identity links (assignee and owner not counted). */
  identityLinks: number;
  idpLinks: number;
}

/** A loaded, indexed snapshot in wasm memory. Load once, query many times, `free()` when done. */
export class Snapshot {
  private constructor();
  /**
   * Loads a snapshot from JSON text, or its UTF-8 bytes (e.g. from `fetch().arrayBuffer()`).
   * @throws {IdentityError} status 400, body type `"SnapshotError"`, message starting with the
   *   JSON path of the first offending value (`tasks[3].identityLinks[0]: ...`).
   */
  static fromJson(text: string | Uint8Array, options?: SnapshotOptions): Snapshot;
  /**
   * Loads a snapshot from a JS object of the snapshot's shape.
   * @throws {IdentityError} as `fromJson`.
   */
  static fromObject(data: SnapshotData, options?: SnapshotOptions): Snapshot;
  /**
   * Loads the compact binary form written by `toBytes()`.
   * @throws {IdentityError} status 400 (`SnapshotError`, path `bytes`) for truncated, corrupted
   *   or foreign bytes.
   */
  static fromBytes(bytes: Uint8Array, options?: SnapshotOptions): Snapshot;
  /**
   * Loads a snapshot from a stream of bytes — a `fetch` body, `KV.get(key, "stream")`, an R2
   * object's body, `Blob.stream()`, a Node `Readable.toWeb(...)` — as it arrives. The binary form
   * goes into wasm memory chunk by chunk, so the input is never held whole in JS as well; JSON
   * (recognised by its first bytes) is gathered and loaded as `fromJson` loads it.
   * @throws {IdentityError} 400 (`SnapshotError`) as `fromBytes` or `fromJson` would, or when the
   * stream ends early; a usage error for something that is not a byte stream. A stream that fails
   * rejects with its error (an `Error` whose `cause` is the reason when that is not an Error).
   */
  static fromStream(stream: ByteStream, options?: SnapshotOptions): Promise<Snapshot>;
  /** The binary form: `Snapshot.fromBytes(s.toBytes())` answers every query identically. */
  toBytes(): Uint8Array;
  /** Canonical JSON: `Snapshot.fromJson(s.toJson())` answers every query identically. */
  toJson(): string;
  /** The snapshot's sequence: a decimal uint64. */
  readonly sequence: string;
  /** The snapshot's timestamp: RFC 3339 in UTC, as Zitadel renders it. */
  readonly timestamp: string;
  /** Row counts. */
  stats(): SnapshotStats;
  /**
   * The version of the snapshot's data: 16 hexadecimal digits (the checksum of `toBytes()`).
   * Equal versions answer every query identically; a fresh load of the same data has the same
   * version, on any runtime and in the exporter.
   */
  readonly version: string;
  /**
   * The changes that turn this snapshot into `newer`, as bytes for `applyDelta` on a snapshot
   * of this version (docs/deltas.md). Its size grows with what changed.
   */
  deltaTo(newer: Snapshot): Uint8Array;
  /**
   * Applies a delta made by `deltaTo` (or the exporter) in place: afterwards every query answers
   * as the newer snapshot does, `toBytes()` equals its binary form and `version` its version.
   * The columns are edited in place: memory holds the tables once, with the room the delta's
   * rows take, not a second copy (docs/deltas.md, "Memory and time").
   * @throws {IdentityError} status 400, body type `"DeltaError"`, for a delta of another base,
   *   out of order, applied already, or damaged (the message names the versions it concerns: the
   *   snapshot's for a damaged delta or rows that do not apply, the base the delta expects and
   *   the snapshot's for another base, the version it should make and the one it made for a
   *   mismatch); the snapshot is then unchanged and usable.
   */
  applyDelta(delta: Uint8Array): void;
  /**
   * Releases the wasm memory; the snapshot cannot be used afterwards (every call on it is then a
   * `UsageError`). Requests that `handleRequest` is still answering from it (waiting for a body
   * or a caller's key set) finish from it first: the memory is released when the last one ends,
   * so a re-base may free the snapshot it replaces at once.
   * @throws {IdentityError} status 400 `UsageError` when the snapshot was freed already.
   */
  free(): void;
  /** Same as `free()`, for `using` declarations. */
  [Symbol.dispose](): void;
  /** `getIdentityLinks(this, request, context)`. */
  getIdentityLinks(request: IdentityLinksRequest, context?: CallContext): IdentityLink[];
  /** `getUserGroups(this, request, context)`. */
  getUserGroups(request: UserGroupsRequest, context?: CallContext): GroupInfo;
  /** `listIdpLinks(this, request, context)`. */
  listIdpLinks(request: ListIdpLinksRequest, context?: CallContext): ListIdpLinksResponse;
  /** `getIdentityLinks` as JSON text: exactly the peer's body (what `handleRequest` sends). */
  getIdentityLinksJson(request: IdentityLinksRequest, context?: CallContext): string;
  /** `getUserGroups` as JSON text: exactly the peer's body. */
  getUserGroupsJson(request: UserGroupsRequest, context?: CallContext): string;
  /** `listIdpLinks` as JSON text: exactly the peer's body. */
  listIdpLinksJson(request: ListIdpLinksRequest, context?: CallContext): string;
}

/** Camunda `GET /task/{id}/identity-links?type=`: path id and query parameter. */
export interface IdentityLinksRequest {
  taskId: string;
  type?: string | null;
}

/** One identity link of a task, as Camunda's `IdentityLinkDto`. */
export interface IdentityLink {
  userId: string | null;
  groupId: string | null;
  type: string;
}

/** Camunda `GET /identity/groups?userId=`. */
export interface UserGroupsRequest {
  userId?: string | null;
}

/** Camunda's `GroupInfoDto`: the user's groups and the users sharing them. */
export interface GroupInfo {
  groups: { id: string; name: string | null }[];
  groupUsers: { firstName: string | null; lastName: string | null; displayName: string; id: string }[];
}

/** Zitadel's `ListIDPLinksRequest`, as JSON. */
export interface ListIdpLinksRequest {
  userId: string;
  query?: {
    /** uint64: a number, a decimal string or a bigint. */
    offset?: number | string | bigint;
    /** uint32; 0 or absent means the default limit. */
    limit?: number;
    /** `true`: creation order; default newest first. */
    asc?: boolean;
  };
}

/** Zitadel's `ListIDPLinksResponse`, as protojson writes it (zero values left out). */
export interface ListIdpLinksResponse {
  details: {
    /** Absent when the page is empty (Zitadel counts the returned rows). */
    totalResult?: string;
    /** Absent when the snapshot's sequence is 0. */
    processedSequence?: string;
    timestamp: string;
  };
  /** Absent when the page is empty. */
  result?: { idpId: string; userId: string; userName?: string }[];
}

/**
 * Who is asking. Pass no context at all for a trusted server-side call (full rights). A context
 * must name its caller: `{}`, `{ caller: undefined }`, `{ caller: null }` and `null` are refused
 * with a `UsageError` (status 400), never taken as full rights.
 */
export interface CallContext {
  caller: {
    userId: string;
    /** Zitadel permissions: `"user.read"` (instance) or `"user.read@<org>"`. */
    permissions?: string[];
    /** Camunda grants, already resolved for the caller (`"*"` = any id; `"ALL"` = every permission). */
    authorizations?: { resource: "Task" | "Group" | "User"; resourceId: string; permissions: string[] }[];
  };
}

/** Camunda's `ExceptionDto`. */
export interface CamundaExceptionBody {
  type: string;
  message: string;
  code: number | null;
}

/** Camunda's `AuthorizationExceptionDto`. */
export interface CamundaAuthorizationBody extends CamundaExceptionBody {
  type: "AuthorizationException";
  userId: string;
  resourceName: string;
  resourceId: string;
  permissionName: string;
  missingAuthorizations: { permissionName: string; resourceName: string; resourceId: string }[];
}

/** The Zitadel REST gateway's error status. */
export interface ZitadelErrorBody {
  code: number;
  message: string;
  details?: { "@type": string; id: string; message: string }[];
}

/** A refused snapshot. */
export interface SnapshotErrorBody {
  type: "SnapshotError";
  message: string;
  /** JSON path of the offending value, `$` for the document, `bytes` for the binary form. */
  path: string;
}

/**
 * A refused delta (`applyDelta`): another base, out of order, applied already, or damaged. The
 * message names the versions it concerns (`applyDelta` says which); the snapshot is unchanged.
 */
export interface DeltaErrorBody {
  type: "DeltaError";
  message: string;
}

/** Misuse of the API itself: a freed snapshot, or a value that is not a Snapshot. */
export interface UsageErrorBody {
  type: "UsageError";
  message: string;
}

/** Every failure is thrown as an `Error` with this shape. */
export interface IdentityError extends Error {
  name: "IdentityError";
  /** The HTTP status the peer answers with. */
  status: number;
  /** The peer's error body. */
  body: CamundaExceptionBody | CamundaAuthorizationBody | ZitadelErrorBody | SnapshotErrorBody | DeltaErrorBody | UsageErrorBody;
  /** Same as `body.message`. */
  message: string;
}

/** Whether `value` is an `IdentityError` thrown by this package. */
export function isIdentityError(value: unknown): value is IdentityError;

/** What {@link deltaInfo} reads from a delta's header. */
export interface DeltaInfo {
  /** The version the delta applies to (as {@link Snapshot.version} writes it). */
  from: string;
  /** The version it makes. */
  to: string;
  /** The new state's `sequence`, a decimal uint64. */
  sequence: string;
  /** The new state's `timestamp`, RFC 3339 in UTC. */
  timestamp: string;
}

/**
 * What a delta's header says, read without a snapshot after its checksum is checked: for a
 * publisher that names and chains deltas (`delta.<from>.<to>`) without reading the format itself.
 * The edits are checked when the delta is applied.
 * @throws {IdentityError} status 400, body type `"DeltaError"`, for anything that is not a whole
 *   delta of this format (truncated, altered, another format, not a `Uint8Array`).
 */
export function deltaInfo(delta: Uint8Array): DeltaInfo;

/** What {@link memoryUsage} reports. */
export interface MemoryUsage {
  /** The module's linear memory now, in bytes (a multiple of 64 KiB). */
  wasmBytes: number;
}

/**
 * The module's memory now: operators watch it (a Cloudflare isolate has 128 MB in all). Wasm
 * memory never shrinks, so it is also the most the module has needed so far; a snapshot freed
 * leaves its room to the next load.
 * @throws {Error} before the module is initialized (`init()` or `initSync()`, where the entry needs them).
 */
export function memoryUsage(): MemoryUsage;

/**
 * Camunda `GET /task/{id}/identity-links?type=`: stored links in creation order, then the
 * assignee, then the owner.
 * @throws {IdentityError} 400 `NullValueException` for an unknown task; 403 with a caller lacking `READ`.
 */
export function getIdentityLinks(snapshot: Snapshot, request: IdentityLinksRequest, context?: CallContext): IdentityLink[];

/**
 * Camunda `GET /identity/groups?userId=`: groups by name, users in Camunda's `HashSet` order.
 * @throws {IdentityError} 400 `InvalidRequestException` without a user id.
 */
export function getUserGroups(snapshot: Snapshot, request: UserGroupsRequest, context?: CallContext): GroupInfo;

/**
 * Zitadel `POST /v2/users/{userId}/links/_search`.
 * @throws {IdentityError} 400 (code 3) for a bad user id or limit; 404/403 for a caller without permission.
 */
export function listIdpLinks(snapshot: Snapshot, request: ListIdpLinksRequest, context?: CallContext): ListIdpLinksResponse;

/**
 * How `handleRequest` serves: the Camunda engine names it answers for, CORS, and the largest
 * request body it reads.
 */
export interface HandlerOptions {
  /**
   * Required: who may call. `"trusted"`: every request with full rights (or as `context`'s
   * caller): behind your own gateway, said explicitly. `AuthOptions`: the caller comes from the
   * request (no `context` then); a peer without an entry answers its 401 to everyone. Without
   * it the promise rejects with a `UsageError` naming the option. Read once per options object.
   */
  auth: "trusted" | AuthOptions;
  /**
   * Engine names served under `{prefix}/engine/{name}/...` (default `["default"]`, the name
   * Camunda's webapps and camunda-bpm-sdk-js use); another name is Camunda's 400
   * `InvalidRequestException` "No process engine available".
   */
  engines?: string[];
  /**
   * Cross-origin requests: `"peers"` (default: any origin on Zitadel's routes, as Zitadel's
   * CORS interceptor allows, none on Camunda's, as engine-rest without a CORS filter), `false`
   * (none anywhere), `"*"` or a list of origins (those, on every route). Allowed origins are
   * echoed; credentials (cookies) only for a list of origins, never for `"peers"` or `"*"` (Zitadel
   * allows them for any origin: a replica behind a cookie gate must not). Preflights are answered 204.
   */
  cors?: "peers" | false | "*" | string[];
  /** The largest request body read, in bytes (default 1 MiB): past it reading stops and the answer is 413. */
  maxBodyBytes?: number;
  /**
   * When given, every route answers its peer's 503 with this message, before the caller is
   * checked and without reading the snapshot (any loaded snapshot serves as the carrier, even an
   * empty one): Camunda's `{"type":"RestException",...}`, Zitadel's code 14 `unavailable` on the
   * REST gateway and Connect (grpc-gateway's and Connect's 503). For a deployment with no good
   * snapshot to answer from, such as the worker example on a cold isolate whose base is absent
   * or damaged. Unknown paths are still 404, preflights still answered.
   */
  unavailable?: string;
}

/**
 * Serves the peers' own routes from an edge worker, so existing clients work unchanged:
 * `GET {prefix}[/engine/{name}]/task/{id}/identity-links[?type=]` and
 * `GET {prefix}[/engine/{name}]/identity/groups?userId=` (`{prefix}`: empty or `/engine-rest`;
 * `HEAD`, `OPTIONS` and a trailing slash as JAX-RS answers them), `POST
 * /v2/users/{userId}/links/_search` (Zitadel REST gateway) and `POST
 * /zitadel.user.v2.UserService/ListIDPLinks` (Connect with `application/json` or
 * `application/proto`, gRPC-web with `application/grpc-web+proto` or `+json`; gRPC over HTTP/2
 * needs response trailers and is answered `unimplemented`). Answers carry the peer's status,
 * content type and exact body; unknown paths are 404, other methods 405, bodies over the limit
 * 413 (read as a stream; reading stops at the limit, whether or not `Content-Length` is sent).
 * Rejects only with an `Error`: an `IdentityError` when `request` is not a `Request`, its body
 * was already read, or `context` cannot be read; a `UsageError` (an `IdentityError` of status
 * 400) for a bad or missing option, a context without a caller, or a freed snapshot; an `AbortError` when
 * `request.signal` aborts while the body is read; an `Error` whose `cause` is the stream's
 * reason when the body fails.
 */
export function handleRequest(snapshot: Snapshot, request: FetchRequest, context: CallContext | undefined, options: HandlerOptions): Promise<FetchResponse>;

/** How `handleRequest` takes the caller from the request (docs/auth.md in the repository). */
export interface AuthOptions {
  /** Zitadel's routes: `Authorization: Bearer <token>`, verified against the issuer's keys (or by introspection). */
  zitadel?: {
    /** A token's `iss` must equal it, e.g. "https://acme.zitadel.cloud". */
    issuer: string;
    /** A token's `aud` must contain one of these (project or client ids). */
    audience: string | string[];
    /** Default `${issuer}/oauth/v2/keys`. */
    jwksUri?: string;
    /** Opaque tokens and PATs (and revoked JWTs) through the introspection endpoint. */
    introspection?: { clientId: string; clientSecret: string; endpoint?: string };
    /** Leeway for `exp` / `nbf` / `iat`, in seconds (default 0). */
    clockToleranceSeconds?: number;
    /**
     * The `fetch` the verifier calls (default `globalThis.fetch`; required where a runtime has
     * none): a GET of the key set (`jwksUri`), or a POST of `token=...` to the introspection
     * endpoint with HTTP Basic client authentication, each with an `AbortSignal` that gives up
     * after 10 s. A rejection, a status other than 200 or a body that is not the expected JSON
     * is Zitadel's `unavailable` (503 / code 14), never an accepted token. For tests, or to
     * route the verifier's requests through a runtime's own binding.
     */
    fetch?(input: string, init: { method?: string; headers: Record<string, string>; body?: string; signal?: GlobalInstance<"AbortSignal", unknown> }): Promise<FetchResponse>;
    /**
     * The verifier's clock, milliseconds since the epoch (default `Date.now`): tokens' `exp`,
     * `nbf` and `iat` are checked against it, and the key set's and introspection's cache
     * lifetimes and cooldowns run on it. For tests.
     */
    now?(): number;
    /**
     * Zitadel's role → permission mapping for the caller's memberships, replacing Zitadel's
     * default (`InternalAuthZ.RolePermissionMappings` in its `cmd/defaults.yaml`) whole, as
     * configuring it in Zitadel does: e.g. `{ ORG_OWNER: ["user.read"], ORG_SETTINGS_MANAGER:
     * ["user.read"] }`. A role it does not name grants nothing; only `user.read` (with or
     * without a `:context` suffix) matters to these queries. A value that is not an array of
     * strings rejects the request with an `IdentityError` (400) naming it.
     */
    rolePermissions?: Record<string, string[]>;
  };
  /** Camunda's routes: the caller's Camunda user id, from one of these (null: not authenticated, 401). */
  camunda?: { zitadelClaim: string; identify?: never } | { identify: (request: FetchRequest) => string | null | Promise<string | null>; zitadelClaim?: never };
}

/** `getIdentityLinks` as JSON text: exactly the peer's body, `JSON.stringify` of the answer. */
export function getIdentityLinksJson(snapshot: Snapshot, request: IdentityLinksRequest, context?: CallContext): string;

/** `getUserGroups` as JSON text: exactly the peer's body. */
export function getUserGroupsJson(snapshot: Snapshot, request: UserGroupsRequest, context?: CallContext): string;

/** `listIdpLinks` as JSON text: exactly the peer's body. */
export function listIdpLinksJson(snapshot: Snapshot, request: ListIdpLinksRequest, context?: CallContext): string;

/**
 * What `Snapshot.fromStream` reads: a `ReadableStream<Uint8Array>` (declared structurally, so
 * that no DOM typings are needed).
 */
export interface ByteStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: ArrayBufferView }>;
    cancel(reason?: unknown): Promise<void>;
    releaseLock(): void;
  };
}

/**
 * The instance type of the global constructor `Name` where the program's libs declare one, else
 * `Fallback`: so that the typings compile with the `dom` lib, with only `@types/node`, or with
 * neither.
 */
type GlobalInstance<Name extends "Request" | "Response" | "URL" | "AbortSignal", Fallback> = typeof globalThis extends {
  [K in Name]: abstract new (...args: never[]) => infer T;
}
  ? T
  : Fallback;

/** A fetch `Request` (the global one; structurally, where no lib declares it). */
export type FetchRequest = GlobalInstance<
  "Request",
  {
    readonly method: string;
    readonly url: string;
    readonly headers: { get(name: string): string | null };
    readonly body: ByteStream | null;
  }
>;

/** A fetch `Response` (the global one; structurally, where no lib declares it). */
export type FetchResponse = GlobalInstance<
  "Response",
  { readonly status: number; readonly headers: { get(name: string): string | null }; text(): Promise<string> }
>;

/** A compiled `WebAssembly.Module` (the global type where a lib declares it). */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: abstract new (...args: never[]) => infer M } } ? M : object;

/** Bytes: an `ArrayBuffer` or a view of one. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/**
 * What `init` accepts: the `.wasm` as a URL (object or string), a `Request` or `Response` for it,
 * its bytes, or the compiled module (of any realm: a framework may compile it in another global).
 */
export type InitInput = string | GlobalInstance<"URL", { readonly href: string }> | FetchRequest | FetchResponse | Bytes | WasmModule;

/**
 * Instantiates the module (browsers, Deno, Bun: fetches the `.wasm` next to the JS file when
 * called without arguments). Resolves at once where the module is already instantiated (Node,
 * workerd). Safe to call more than once. Before it, in the entries that need it, every loader,
 * query, `handleRequest`, `deltaInfo` and `memoryUsage` throws (the promises reject) an `Error`
 * saying "… before the module is initialized: call init() or initSync() first", and
 * `isIdentityError` answers false.
 */
export default function init(input?: { module_or_path?: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<unknown>;

/** Instantiates the module synchronously from bytes or a compiled module (of any realm). */
export function initSync(input: { module: Bytes | WasmModule } | Bytes | WasmModule): unknown;
