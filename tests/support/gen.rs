//! Deterministic random snapshots and requests for property tests.
#![allow(dead_code)]

use identity_links::json::Value;

/// xorshift64*: small, fast, reproducible from a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn s(text: impl AsRef<str>) -> Value {
    Value::String(text.as_ref().to_owned())
}

fn obj(members: Vec<(&str, Value)>) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Ids whose Java hash codes all collide ("Aa" and "BB" hash alike), to crowd one bucket.
fn colliding_ids() -> Vec<String> {
    let mut ids = vec![String::new()];
    for _ in 0..4 {
        ids = ids.iter().flat_map(|p| [format!("{p}Aa"), format!("{p}BB")]).collect();
    }
    ids
}

/// Names and ids that exercise ordering: case, nulls, ties, characters beyond the BMP and in
/// U+E000..U+FFFF (where UTF-16 and code point order differ).
const WORDS: &[&str] =
    &["a", "B", "b", "Sales", "sales", "Ops", "é", "\u{FF5E}x", "😀", "z\"q", "tab\t", "ann", "Ann", "bob"];

/// A random valid snapshot document. One in four is "crowded": up to 16 users whose `UserDto`
/// hash codes all collide share one group, so Java's bucket-crowding resize is exercised.
pub fn snapshot(rng: &mut Rng) -> Value {
    let colliding = colliding_ids();
    if rng.chance(25) {
        return crowded(rng, &colliding);
    }
    let n_users = 1 + rng.below(40);
    let mut user_ids: Vec<String> = Vec::new();
    while user_ids.len() < n_users {
        let id = match rng.below(4) {
            0 => rng.pick(&colliding).clone(),
            1 => rng.pick(WORDS).to_string(),
            _ => format!("u{}", rng.below(60)),
        };
        if !user_ids.contains(&id) {
            user_ids.push(id);
        }
    }
    let name = |rng: &mut Rng| {
        if rng.chance(30) {
            Value::Null
        } else {
            s(rng.pick(WORDS))
        }
    };
    let users: Vec<Value> = user_ids
        .iter()
        .map(|id| {
            let mut m = vec![("id", s(id))];
            if rng.chance(80) {
                m.push(("firstName", name(rng)));
            }
            if rng.chance(80) {
                m.push(("lastName", name(rng)));
            }
            if rng.chance(70) {
                m.push(("org", s(rng.pick(&["O1", "O2", "O3"]))));
            }
            obj(m)
        })
        .collect();
    let n_groups = rng.below(8);
    let group_ids: Vec<String> = (0..n_groups).map(|i| format!("g{i}{}", rng.pick(WORDS))).collect();
    let groups: Vec<Value> = group_ids.iter().map(|id| obj(vec![("id", s(id)), ("name", name(rng))])).collect();
    let mut pairs = Vec::new();
    if n_groups > 0 {
        for _ in 0..rng.below(120) {
            let pair = (rng.below(n_users), rng.below(n_groups));
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    let memberships =
        pairs.iter().map(|&(u, g)| obj(vec![("userId", s(&user_ids[u])), ("groupId", s(&group_ids[g]))])).collect();
    let types = ["candidate", "approver", "assignee", "owner", "x"];
    let tasks = (0..rng.below(6))
        .map(|t| {
            let links = (0..rng.below(6))
                .map(|_| {
                    let id = if rng.chance(50) { rng.pick(&user_ids).clone() } else { format!("ext{}", rng.below(3)) };
                    let field = if rng.chance(50) { "userId" } else { "groupId" };
                    obj(vec![(field, s(&id)), ("type", s(rng.pick(&types)))])
                })
                .collect();
            let mut m = vec![("id", s(format!("t{t}"))), ("identityLinks", Value::Array(links))];
            if rng.chance(60) {
                m.push(("assignee", s(rng.pick(&user_ids))));
            }
            if rng.chance(40) {
                m.push(("owner", s(rng.pick(&user_ids))));
            }
            obj(m)
        })
        .collect();
    let idp_links = (0..rng.below(30))
        .map(|i| {
            obj(vec![
                ("userId", s(&user_ids[rng.below(n_users.min(4))])),
                ("idpId", s(rng.pick(&["idpA", "idpB", "idpC"]))),
                ("providedUserId", s(format!("ext-{i}"))),
                ("providedUserName", s(if rng.chance(20) { "" } else { rng.pick(WORDS) })),
            ])
        })
        .collect();
    let mut top = vec![("version", Value::Number("1".into()))];
    if rng.chance(70) {
        top.push(("sequence", s(rng.below(1000).to_string())));
    }
    if rng.chance(70) {
        top.push((
            "timestamp",
            s(rng.pick(&["2025-01-01T10:00:00.123456Z", "2025-01-01T10:00:00+02:00", "2024-02-29T23:59:59.5Z"])),
        ));
    }
    top.extend([
        ("users", Value::Array(users)),
        ("groups", Value::Array(groups)),
        ("memberships", Value::Array(memberships)),
        ("tasks", Value::Array(tasks)),
        ("idpLinks", Value::Array(idp_links)),
    ]);
    obj(top)
}

fn crowded(rng: &mut Rng, colliding: &[String]) -> Value {
    let n = 9 + rng.below(colliding.len() - 8);
    let mut ids: Vec<String> = colliding[..n].to_vec();
    ids.push("requester".into());
    let users =
        ids.iter().map(|id| obj(vec![("id", s(id)), ("firstName", Value::Null), ("lastName", Value::Null)])).collect();
    let memberships = ids.iter().map(|id| obj(vec![("userId", s(id)), ("groupId", s("crowd"))])).collect();
    obj(vec![
        ("version", Value::Number("1".into())),
        ("users", Value::Array(users)),
        ("groups", Value::Array(vec![obj(vec![("id", s("crowd")), ("name", s("Crowd"))])])),
        ("memberships", Value::Array(memberships)),
    ])
}

/// The string values of `key` in the rows of table `table` of a snapshot document.
pub fn ids(snapshot: &Value, table: &str, key: &str) -> Vec<String> {
    match snapshot.get(table) {
        Some(Value::Array(rows)) => rows
            .iter()
            .filter_map(|r| match r.get(key) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A random context: none, or a caller with random grants and permissions.
pub fn context(rng: &mut Rng, snapshot: &Value) -> Option<Value> {
    if rng.chance(40) {
        return None;
    }
    let users = ids(snapshot, "users", "id");
    let mut caller =
        vec![("userId", s(if users.is_empty() || rng.chance(20) { "stranger" } else { rng.pick(&users) }))];
    if rng.chance(70) {
        let perms = (0..rng.below(3))
            .map(|_| s(rng.pick(&["user.read", "user.read@O1", "user.read@O2", "org.read@O2", "user.write"])))
            .collect();
        caller.push(("permissions", Value::Array(perms)));
    }
    if rng.chance(70) {
        let mut pool = ids(snapshot, "tasks", "id");
        pool.extend(ids(snapshot, "groups", "id"));
        pool.extend(users);
        pool.push("*".into());
        let grants = (0..rng.below(8))
            .map(|_| {
                obj(vec![
                    ("resource", s(rng.pick(&["Task", "Group", "User"]))),
                    ("resourceId", s(if rng.chance(25) { "*" } else { rng.pick(&pool) })),
                    ("permissions", Value::Array(vec![s(rng.pick(&["READ", "ALL", "UPDATE"]))])),
                ])
            })
            .collect();
        caller.push(("authorizations", Value::Array(grants)));
    }
    Some(obj(vec![("caller", obj(caller))]))
}

/// A random request for `call` against `snapshot`.
pub fn request(rng: &mut Rng, call: &str, snapshot: &Value) -> Value {
    let from = |rng: &mut Rng, table: &str| {
        let pool = ids(snapshot, table, "id");
        if pool.is_empty() || rng.chance(15) {
            "nobody".to_owned()
        } else {
            rng.pick(&pool).clone()
        }
    };
    match call {
        "getIdentityLinks" => {
            let mut m = vec![("taskId", s(from(rng, "tasks")))];
            if rng.chance(50) {
                m.push(("type", s(rng.pick(&["candidate", "assignee", "owner", "approver", "", "nope"]))));
            }
            obj(m)
        }
        "getUserGroups" => obj(vec![("userId", s(from(rng, "users")))]),
        _ => {
            let mut query = Vec::new();
            if rng.chance(60) {
                query.push(("offset", Value::Number(rng.below(12).to_string())));
            }
            if rng.chance(60) {
                query.push(("limit", Value::Number(rng.pick(&[0, 1, 2, 3, 5, 8, 10]).to_string())));
            }
            if rng.chance(60) {
                query.push(("asc", Value::Bool(rng.chance(50))));
            }
            obj(vec![("userId", s(from(rng, "users"))), ("query", obj(query))])
        }
    }
}
