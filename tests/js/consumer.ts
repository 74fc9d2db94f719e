// A small TypeScript consumer, checked with `tsc --noEmit --strict` against the package's
// typings. The @ts-expect-error lines fail the check if a type is too loose (e.g. `any`).
import init, { Snapshot, getIdentityLinks, getUserGroups, getUserGroupsJson, handleRequest, listIdpLinks, isIdentityError, initSync, memoryUsage, deltaInfo } from "identity-links";
import type { CallContext, GroupInfo, IdentityLink, ListIdpLinksResponse, SnapshotData, SnapshotStats } from "identity-links";

export async function main(bytes: Uint8Array, module: WebAssembly.Module): Promise<string> {
  await init();
  initSync({ module });
  const data: SnapshotData = {
    version: 1,
    sequence: "42",
    users: [{ id: "u", firstName: null, org: "O" }],
    tasks: [{ id: "t", identityLinks: [{ groupId: "g", type: "candidate" }] }],
  };
  const snapshot: Snapshot = Snapshot.fromObject(data, { defaultLimit: 10, maxLimit: 100 });
  // Every field the loader reads is typed: the source's order, the authorization data.
  const full: SnapshotData = {
    version: 1,
    users: [{ id: "u" }],
    groups: [{ id: "g", name: "G", rank: 0 }],
    memberships: [{ userId: "u", groupId: "g", rank: 0 }],
    tasks: [{ id: "t", processDefinitionKey: "invoice", identityLinks: [] }],
    authorizations: [
      { type: 0, userId: "*", resourceType: 1, resourceId: "*", permissions: -1 },
      { type: 2, groupId: "g", resourceType: 7, resourceId: "t", permissions: 2 },
    ],
    authorizationEnabled: true,
    zitadelMembers: [{ userId: "u", org: "o", roles: ["ORG_OWNER"] }],
  };
  Snapshot.fromObject(full).free();
  // @ts-expect-error: an authorization names a user or a group, not both
  const both: SnapshotData = { version: 1, authorizations: [{ type: 1, userId: "u", groupId: "g", resourceType: 7, resourceId: "*", permissions: 2 }] };
  void both;
  const again = Snapshot.fromBytes(bytes);
  const streamed: Snapshot = await Snapshot.fromStream(new Blob([bytes.slice()]).stream(), { maxBytes: 1 << 20 });
  streamed.free();
  // @ts-expect-error: a string is not a byte stream
  await Snapshot.fromStream("snapshot.json").catch(() => null);
  const links: IdentityLink[] = getIdentityLinks(snapshot, { taskId: "t", type: "candidate" });
  const first: string | null = links[0]?.userId ?? null;
  const info: GroupInfo = snapshot.getUserGroups({ userId: "u" });
  const names: (string | null)[] = info.groupUsers.map((u) => u.firstName);
  const context: CallContext = {
    caller: { userId: "u", permissions: ["user.read"], authorizations: [{ resource: "Task", resourceId: "*", permissions: ["READ"] }] },
  };
  const page: ListIdpLinksResponse = listIdpLinks(again, { userId: "u", query: { offset: 1n, limit: 10, asc: true } }, context);
  const total: string | undefined = page.details.totalResult;
  const stats: SnapshotStats = snapshot.stats();
  const wasmBytes: number = memoryUsage().wasmBytes;
  // @ts-expect-error: memoryUsage answers an object, not a number
  const notAnObject: number = memoryUsage();
  const { from, to, sequence: deltaSequence }: { from: string; to: string; sequence: string } = deltaInfo(snapshot.deltaTo(again));
  // @ts-expect-error: deltaInfo reads bytes, not a Snapshot
  deltaInfo(snapshot);
  const body: string = snapshot.getIdentityLinksJson({ taskId: "t" }) + getUserGroupsJson(snapshot, { userId: "u" });
  const response: Response = await handleRequest(snapshot, new Request("https://camunda.example/engine-rest/identity/groups?userId=u"), context, { auth: "trusted" });
  // The caller from the request: Zitadel's tokens, and Camunda's user from a claim or a verifier.
  await handleRequest(snapshot, new Request("https://zitadel.example/v2/users/u/links/_search"), undefined, {
    auth: { zitadel: { issuer: "https://acme.zitadel.cloud", audience: ["123"] }, camunda: { identify: async () => null } },
  });
  // The verifier's fetch and clock (tests inject theirs): the global fetch and Date.now fit.
  await handleRequest(snapshot, new Request("https://zitadel.example/v2/users/u/links/_search"), undefined, {
    auth: { zitadel: { issuer: "https://acme.zitadel.cloud", audience: "123", fetch: globalThis.fetch, now: Date.now } },
  });
  await handleRequest(snapshot, new Request("https://zitadel.example/v2/users/u/links/_search"), undefined, {
    // @ts-expect-error: now answers milliseconds, not a Date
    auth: { zitadel: { issuer: "https://acme.zitadel.cloud", audience: "123", now: () => new Date() } },
  });
  // @ts-expect-error: auth is required
  await handleRequest(snapshot, new Request("https://camunda.example/"), undefined, {});
  const status200: number = response.status;
  try {
    getUserGroups(snapshot, {});
  } catch (e) {
    if (isIdentityError(e)) {
      const status: number = e.status;
      return `${status} ${e.body.message}`;
    }
  }
  // @ts-expect-error: taskId is required
  getIdentityLinks(snapshot, {});
  // @ts-expect-error: resources are Task, Group or User
  const wrong: CallContext = { caller: { userId: "u", authorizations: [{ resource: "Process", resourceId: "*", permissions: [] }] } };
  // @ts-expect-error: answers are typed, not any
  const notANumber: number = links;
  // @ts-expect-error: sequence is a string (uint64)
  const seq: number = snapshot.sequence;
  snapshot.free();
  // @ts-expect-error: handleRequest takes a fetch Request, not a URL
  await handleRequest(snapshot, "https://camunda.example/", undefined, { auth: "trusted" });
  return `${first} ${names.length} ${total} ${stats.users} ${snapshot.timestamp} ${String(wrong)} ${notANumber} ${seq} ${status200} ${body} ${wasmBytes} ${notAnObject} ${from} ${to} ${deltaSequence}`;
}
