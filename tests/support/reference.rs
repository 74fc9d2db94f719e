//! A deliberately simple reference model of the three queries: linear scans over the raw JSON
//! tables, sorting with `encode_utf16`, and Java's `HashMap` as literally as Java writes it
//! (lists of buckets, split in bucket order on resize). The indexed engine must agree with it.
#![allow(dead_code)]

use identity_links::json::Value;

fn rows<'a>(snapshot: &'a Value, table: &str) -> &'a [Value] {
    match snapshot.get(table) {
        Some(Value::Array(rows)) => rows,
        _ => &[],
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match v.get(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn s(t: &str) -> Value {
    Value::String(t.to_owned())
}

fn opt(t: Option<&str>) -> Value {
    t.map_or(Value::Null, s)
}

fn obj(members: Vec<(&str, Value)>) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn utf16(t: &str) -> Vec<u16> {
    t.encode_utf16().collect()
}

fn java_hash(t: Option<&str>) -> i32 {
    let mut h: i32 = 0;
    for unit in t.unwrap_or("").encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    h
}

fn caller(context: Option<&Value>) -> Option<&Value> {
    context.and_then(|c| c.get_present("caller"))
}

fn can_read(caller: &Value, resource: &str, id: &str) -> bool {
    let Some(Value::Array(grants)) = caller.get("authorizations") else {
        return false;
    };
    grants.iter().any(|g| {
        let Some(Value::Array(perms)) = g.get("permissions") else {
            return false;
        };
        text(g, "resource") == Some(resource)
            && matches!(text(g, "resourceId"), Some(r) if r == "*" || r == id)
            && perms.iter().any(|p| matches!(p, Value::String(p) if p == "READ" || p == "ALL"))
    })
}

/// The answer `(status, body)` of `call` as the peers define it.
pub fn answer(
    snapshot: &Value,
    call: &str,
    request: &Value,
    context: Option<&Value>,
    default_limit: u64,
    max_limit: u64,
) -> (u16, String) {
    match call {
        "getIdentityLinks" => identity_links(snapshot, request, context),
        "getUserGroups" => user_groups(snapshot, request, context),
        _ => idp_links(snapshot, request, context, default_limit, max_limit),
    }
}

fn identity_links(snapshot: &Value, request: &Value, context: Option<&Value>) -> (u16, String) {
    let task_id = text(request, "taskId").unwrap_or("");
    let Some(task) = rows(snapshot, "tasks").iter().find(|t| text(t, "id") == Some(task_id)) else {
        let body = obj(vec![
            ("type", s("NullValueException")),
            ("message", s(&format!("Cannot find task with id {task_id}: task is null"))),
            ("code", Value::Number("0".into())),
        ]);
        return (400, body.to_json());
    };
    if let Some(c) = caller(context) {
        if !can_read(c, "Task", task_id) {
            let user = text(c, "userId").unwrap_or("");
            let missing =
                obj(vec![("permissionName", s("READ")), ("resourceName", s("Task")), ("resourceId", s(task_id))]);
            let body = obj(vec![
                ("type", s("AuthorizationException")),
                ("message", s(&format!("The user with id '{user}' does not have 'READ' permission on resource '{task_id}' of type 'Task'."))),
                ("code", Value::Number("0".into())),
                ("userId", s(user)),
                ("resourceName", s("Task")),
                ("resourceId", s(task_id)),
                ("permissionName", s("READ")),
                ("missingAuthorizations", Value::Array(vec![missing])),
            ]);
            return (403, body.to_json());
        }
    }
    let mut links: Vec<(Option<&str>, Option<&str>, &str)> = rows(task, "identityLinks")
        .iter()
        .map(|l| (text(l, "userId"), text(l, "groupId"), text(l, "type").unwrap_or("")))
        .collect();
    if let Some(a) = text(task, "assignee") {
        links.push((Some(a), None, "assignee"));
    }
    if let Some(o) = text(task, "owner") {
        links.push((Some(o), None, "owner"));
    }
    let wanted = text(request, "type");
    let out = links
        .into_iter()
        .filter(|l| wanted.is_none_or(|w| w == l.2))
        .map(|(u, g, t)| obj(vec![("userId", opt(u)), ("groupId", opt(g)), ("type", s(t))]))
        .collect();
    (200, Value::Array(out).to_json())
}

/// `java.util.HashMap` as Java writes it, keyed by user id.
struct JavaSet {
    table: Vec<Vec<(u32, String)>>,
    size: usize,
}

impl JavaSet {
    fn spread(hash: i32) -> u32 {
        let h = hash as u32;
        h ^ (h >> 16)
    }
    fn add(&mut self, hash: i32, id: &str) {
        if self.table.is_empty() {
            self.table = vec![Vec::new(); 16];
        }
        let n = self.table.len();
        let bucket = &mut self.table[(Self::spread(hash) as usize) & (n - 1)];
        if bucket.iter().any(|(_, k)| k == id) {
            return;
        }
        bucket.push((Self::spread(hash), id.to_owned()));
        if bucket.len() >= 9 && n < 64 {
            self.resize();
        }
        self.size += 1;
        if self.size > self.table.len() * 3 / 4 {
            self.resize();
        }
    }
    fn resize(&mut self) {
        let n = self.table.len() * 2;
        let mut table = vec![Vec::new(); n];
        for bucket in std::mem::take(&mut self.table) {
            for (spread, id) in bucket {
                table[(spread as usize) & (n - 1)].push((spread, id));
            }
        }
        self.table = table;
    }
}

fn user_groups(snapshot: &Value, request: &Value, context: Option<&Value>) -> (u16, String) {
    let Some(user_id) = text(request, "userId") else {
        let body = obj(vec![
            ("type", s("InvalidRequestException")),
            ("message", s("No user id was supplied")),
            ("code", Value::Null),
        ]);
        return (400, body.to_json());
    };
    let memberships = rows(snapshot, "memberships");
    let member =
        |u: &str, g: &str| memberships.iter().any(|m| text(m, "userId") == Some(u) && text(m, "groupId") == Some(g));
    let c = caller(context);
    let mut groups: Vec<&Value> = rows(snapshot, "groups")
        .iter()
        .filter(|g| member(user_id, text(g, "id").unwrap_or("")))
        .filter(|g| c.is_none_or(|c| can_read(c, "Group", text(g, "id").unwrap_or(""))))
        .collect();
    groups.sort_by_key(|g| (text(g, "name").is_some(), text(g, "name").map(utf16), utf16(text(g, "id").unwrap_or(""))));
    let mut set = JavaSet { table: Vec::new(), size: 0 };
    let users = rows(snapshot, "users");
    for g in &groups {
        let gid = text(g, "id").unwrap_or("");
        let mut members: Vec<&Value> = users.iter().filter(|u| member(text(u, "id").unwrap_or(""), gid)).collect();
        members.sort_by_key(|u| utf16(text(u, "id").unwrap_or("")));
        for u in members {
            let id = text(u, "id").unwrap_or("");
            if id == user_id || c.is_some_and(|c| !can_read(c, "User", id)) {
                continue;
            }
            let h = 31i32
                .wrapping_mul(
                    31i32.wrapping_mul(java_hash(text(u, "firstName"))).wrapping_add(java_hash(text(u, "lastName"))),
                )
                .wrapping_add(java_hash(Some(id)));
            set.add(h, id);
        }
    }
    let group_users = set
        .table
        .iter()
        .flatten()
        .map(|(_, id)| {
            let u = users.iter().find(|u| text(u, "id") == Some(id.as_str())).unwrap_or(&Value::Null);
            let (first, last) = (text(u, "firstName"), text(u, "lastName"));
            let display = match (first, last) {
                (None, None) => id.clone(),
                (f, Some(l)) => format!("{} {}", f.unwrap_or("null"), l),
                (Some(f), None) => f.to_owned(),
            };
            obj(vec![("firstName", opt(first)), ("lastName", opt(last)), ("displayName", s(&display)), ("id", s(id))])
        })
        .collect();
    let groups = groups.iter().map(|g| obj(vec![("id", opt(text(g, "id"))), ("name", opt(text(g, "name")))])).collect();
    (200, obj(vec![("groups", Value::Array(groups)), ("groupUsers", Value::Array(group_users))]).to_json())
}

fn zitadel_error(status: u16, code: &str, id: &str, message: &str) -> (u16, String) {
    let detail =
        obj(vec![("@type", s("type.googleapis.com/zitadel.v1.ErrorDetail")), ("id", s(id)), ("message", s(message))]);
    let body = obj(vec![
        ("code", Value::Number(code.into())),
        ("message", s(&format!("{message} ({id})"))),
        ("details", Value::Array(vec![detail])),
    ]);
    (status, body.to_json())
}

fn idp_links(
    snapshot: &Value,
    request: &Value,
    context: Option<&Value>,
    default_limit: u64,
    max_limit: u64,
) -> (u16, String) {
    let user_id = text(request, "userId").unwrap_or("");
    let n = user_id.chars().count();
    if n == 0 || n > 200 {
        let body = obj(vec![
            ("code", Value::Number("3".into())),
            (
                "message",
                s("invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive"),
            ),
        ]);
        return (400, body.to_json());
    }
    let query = request.get("query");
    let num = |k: &str| match query.and_then(|q| q.get(k)) {
        Some(Value::Number(n)) => n.parse::<u64>().unwrap_or(0),
        _ => 0,
    };
    let asc = matches!(query.and_then(|q| q.get("asc")), Some(Value::Bool(true)));
    let limit = match num("limit") {
        // Zitadel's SystemDefaults: a default of 0 means no limit at all.
        0 if default_limit == 0 => u64::MAX,
        0 => default_limit,
        l if max_limit > 0 && l > max_limit => return zitadel_error(400, "3", "QUERY-4M0fs", "Limit exceeded"),
        l => l,
    };
    let mut links: Vec<&Value> =
        rows(snapshot, "idpLinks").iter().filter(|l| text(l, "userId") == Some(user_id)).collect();
    let total = links.len();
    if !asc {
        links.reverse();
    }
    let page: Vec<&Value> = links.into_iter().skip(num("offset") as usize).take(limit as usize).collect();
    if let Some(c) = caller(context) {
        if !page.is_empty() && text(c, "userId") != Some(user_id) {
            let perms: Vec<&str> = match c.get("permissions") {
                Some(Value::Array(p)) => {
                    p.iter().filter_map(|p| if let Value::String(p) = p { Some(p.as_str()) } else { None }).collect()
                }
                _ => Vec::new(),
            };
            let org =
                rows(snapshot, "users").iter().find(|u| text(u, "id") == Some(user_id)).and_then(|u| text(u, "org"));
            if perms.is_empty() {
                return zitadel_error(404, "5", "AUTHZ-cdgFk", "membership not found");
            }
            if !perms.iter().any(|p| *p == "user.read" || org.is_some_and(|o| *p == format!("user.read@{o}"))) {
                return zitadel_error(403, "7", "AUTH-AWfge", "No matching permissions found");
            }
        }
    }
    let mut details = Vec::new();
    if !page.is_empty() {
        details.push(("totalResult", s(&total.to_string())));
    }
    let sequence = match snapshot.get("sequence") {
        Some(Value::String(n)) => n.parse::<u64>().unwrap_or(0),
        _ => 0,
    };
    if sequence != 0 {
        details.push(("processedSequence", s(&sequence.to_string())));
    }
    let timestamp =
        identity_links_text::timestamp::Timestamp::parse(text(snapshot, "timestamp").unwrap_or("0001-01-01T00:00:00Z"));
    details.push(("timestamp", s(&timestamp.map(|t| t.render()).unwrap_or_default())));
    let mut body = vec![("details", obj(details))];
    if !page.is_empty() {
        let result = page
            .iter()
            .map(|l| {
                let mut m = vec![("idpId", opt(text(l, "idpId"))), ("userId", opt(text(l, "providedUserId")))];
                if let Some(name) = text(l, "providedUserName").filter(|n| !n.is_empty()) {
                    m.push(("userName", s(name)));
                }
                obj(m)
            })
            .collect();
        body.push(("result", Value::Array(result)));
    }
    (200, obj(body).to_json())
}
