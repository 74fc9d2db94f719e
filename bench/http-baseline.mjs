// The user's alternative to handleRequest: a hand-written fetch handler over bench/baseline.mjs's
// Maps and query functions, as a user would write it — `new URL(request.url)`, a regular
// expression per route, `request.json()` for a body, `JSON.stringify` and `new Response`. It
// serves the routes the benchmark times, with the answers identity-links gives there (checked by
// bench/run.mjs before timing):
//
//   GET  /engine-rest/task/{id}/identity-links[?type=]
//   GET  /engine-rest/identity/groups?userId=
//   POST /v2/users/{userId}/links/_search           body {"query":{offset,limit,asc}}
//   POST /zitadel.user.v2.UserService/ListIDPLinks   Connect JSON, body {"userId","query"}
//
// Errors the baseline throws as { status, body } are answered with that status and body (a
// Zitadel error on the Connect route keeps the REST gateway's body: Connect's own error shape is
// not written here, and the benchmark's Connect requests never fail). Everything else is the
// peers' 404. No caller context, no CORS, no HEAD/OPTIONS: what the timed requests need.
import { getIdentityLinks, getUserGroups, listIdpLinks } from "./baseline.mjs";

const TASK = /^\/engine-rest\/task\/([^/]+)\/identity-links$/;
const IDP_SEARCH = /^\/v2\/users\/([^/]+)\/links\/_search$/;

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
}

/** The answer to `request` (a fetch Request) from `data`, the Maps of baseline.mjs's `load`. */
export async function handle(data, request) {
  const url = new URL(request.url);
  const path = url.pathname;
  try {
    if (request.method === "GET") {
      const task = TASK.exec(path);
      if (task) return json(200, getIdentityLinks(data, { taskId: decodeURIComponent(task[1]), type: url.searchParams.get("type") }));
      if (path === "/engine-rest/identity/groups") return json(200, getUserGroups(data, { userId: url.searchParams.get("userId") }));
    } else if (request.method === "POST") {
      const search = IDP_SEARCH.exec(path);
      if (search) {
        const body = await request.json();
        return json(200, listIdpLinks(data, { userId: decodeURIComponent(search[1]), query: body.query ?? {} }));
      }
      if (path === "/zitadel.user.v2.UserService/ListIDPLinks") {
        const body = await request.json();
        return json(200, listIdpLinks(data, { userId: body.userId, query: body.query ?? {} }));
      }
    }
  } catch (e) {
    if (e && typeof e.status === "number") return json(e.status, e.body);
    throw e;
  }
  return path.startsWith("/engine-rest")
    ? json(404, { type: "NotFoundException", message: "HTTP 404 Not Found", code: null })
    : json(404, { code: 5, message: "Not Found" });
}
