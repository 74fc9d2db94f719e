//! Deltas (issue 24): random snapshots changed the ways the peers change them; a delta from each
//! state to the next makes the next byte for byte and answers as it does, along chains; and
//! every wrong delta (another base, a gap, out of order, twice, truncated, a bit flipped) is
//! refused with the snapshot unchanged and still answering.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::json::Value;
use identity_links::{DeltaError, DeltaHeader, Query, Snapshot};
use support::gen::Rng;

/// A task: id, assignee, owner, processDefinitionKey, links (is a group, id, type).
type Task = (String, Option<String>, Option<String>, Option<String>, Vec<(bool, String, String)>);
/// A user: id, firstName, lastName, org.
type User = (String, Option<String>, Option<String>, Option<String>);
/// A Zitadel membership: userId, org, project, roles.
type Member = (String, Option<String>, Option<String>, Vec<String>);

/// A snapshot document, as the peers' rows: what the mutations change.
#[derive(Clone, Debug)]
struct Model {
    sequence: u64,
    timestamp: &'static str,
    /// id, firstName, lastName, org
    users: Vec<User>,
    /// id, name, rank
    groups: Vec<(String, Option<String>, u32)>,
    /// userId, groupId, rank
    memberships: Vec<(String, String, u32)>,
    /// Whether groups and memberships carry ranks.
    ranked: bool,
    /// id, assignee, owner, processDefinitionKey, links (is a group, id, type)
    tasks: Vec<Task>,
    /// userId, idpId, providedUserId, providedUserName
    idp: Vec<(String, String, String, String)>,
    /// type, is a group, owner, resourceType, resourceId, permissions
    authz: Vec<(u32, bool, String, u32, String, i32)>,
    enabled: bool,
    /// userId, org, project, roles
    members: Vec<Member>,
    /// A counter for fresh ids.
    fresh: usize,
}

const NAMES: &[&str] = &["Ann", "bob", "Sales", "é", "😀", "\u{FF5E}x", "z\"q", ""];
const TYPES: &[&str] = &["candidate", "approver", "assignee", "owner"];
const ORGS: &[&str] = &["O1", "O2", "O3"];

fn opt(rng: &mut Rng, pool: &[&str]) -> Option<String> {
    (!rng.chance(30)).then(|| rng.pick(pool).to_string())
}

fn json(s: &Option<String>) -> String {
    s.as_ref().map_or("null".into(), |s| Value::String(s.clone()).to_json())
}

fn q(s: &str) -> String {
    Value::String(s.to_owned()).to_json()
}

impl Model {
    fn random(rng: &mut Rng) -> Model {
        let mut m = Model {
            sequence: rng.below(1000) as u64,
            timestamp: "2025-01-01T10:00:00.5Z",
            users: Vec::new(),
            groups: Vec::new(),
            memberships: Vec::new(),
            ranked: rng.chance(30),
            tasks: Vec::new(),
            idp: Vec::new(),
            authz: Vec::new(),
            enabled: rng.chance(50),
            members: Vec::new(),
            fresh: 0,
        };
        for _ in 0..1 + rng.below(12) {
            m.add_user(rng);
        }
        for _ in 0..rng.below(5) {
            m.add_group(rng);
        }
        for _ in 0..rng.below(15) {
            m.add_membership(rng);
        }
        for _ in 0..rng.below(6) {
            m.add_task(rng);
        }
        for _ in 0..rng.below(8) {
            m.add_idp(rng);
        }
        for _ in 0..rng.below(5) {
            m.add_authz(rng);
        }
        for _ in 0..rng.below(4) {
            m.add_member(rng);
        }
        m
    }

    fn id(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn user(&self, rng: &mut Rng) -> String {
        if self.users.is_empty() || rng.chance(10) {
            "ext".into()
        } else {
            self.users[rng.below(self.users.len())].0.clone()
        }
    }

    fn add_user(&mut self, rng: &mut Rng) {
        let id = self.id("u");
        let at = rng.below(self.users.len() + 1);
        let row = (id, opt(rng, NAMES), opt(rng, NAMES), opt(rng, ORGS));
        self.users.insert(at, row);
    }

    fn add_group(&mut self, rng: &mut Rng) {
        let id = self.id("g");
        let at = rng.below(self.groups.len() + 1);
        self.groups.insert(at, (id, opt(rng, NAMES), rng.below(4) as u32));
    }

    fn add_membership(&mut self, rng: &mut Rng) {
        if self.users.is_empty() || self.groups.is_empty() {
            return;
        }
        let user = self.users[rng.below(self.users.len())].0.clone();
        let group = self.groups[rng.below(self.groups.len())].0.clone();
        if !self.memberships.iter().any(|(u, g, _)| *u == user && *g == group) {
            self.memberships.push((user, group, rng.below(4) as u32));
        }
    }

    fn link(&self, rng: &mut Rng) -> (bool, String, String) {
        let group = rng.chance(40) && !self.groups.is_empty();
        let id = if group { self.groups[rng.below(self.groups.len())].0.clone() } else { self.user(rng) };
        (group, id, rng.pick(TYPES).to_string())
    }

    fn add_task(&mut self, rng: &mut Rng) {
        let id = self.id("t");
        let links = (0..rng.below(5)).map(|_| self.link(rng)).collect();
        let (assignee, owner) = (rng.chance(60).then(|| self.user(rng)), rng.chance(40).then(|| self.user(rng)));
        let at = rng.below(self.tasks.len() + 1);
        self.tasks.insert(at, (id, assignee, owner, opt(rng, &["proc", "other"]), links));
    }

    fn add_idp(&mut self, rng: &mut Rng) {
        if self.users.is_empty() {
            return;
        }
        let user = self.users[rng.below(self.users.len())].0.clone();
        let provided = self.id("ext-");
        self.idp.push((user, rng.pick(&["idpA", "idpB"]).to_string(), provided, rng.pick(NAMES).to_string()));
    }

    fn add_authz(&mut self, rng: &mut Rng) {
        let kind = rng.below(3) as u32;
        let group = kind != 0 && rng.chance(40) && !self.groups.is_empty();
        let owner = match (kind, group) {
            (0, _) => "*".to_owned(),
            (_, true) => self.groups[rng.below(self.groups.len())].0.clone(),
            _ => self.user(rng),
        };
        let resource = if rng.chance(30) { "*".to_owned() } else { self.user(rng) };
        let row = (kind, group, owner, *rng.pick(&[1, 2, 6, 7]), resource, rng.below(64) as i32 - 1);
        self.authz.push(row);
    }

    fn add_member(&mut self, rng: &mut Rng) {
        let user = self.user(rng);
        let org = opt(rng, ORGS);
        let project = org.as_ref().and_then(|_| opt(rng, &["p1", "p2"]));
        let roles = (0..rng.below(3)).map(|_| rng.pick(&["ORG_OWNER", "IAM_OWNER", "PROJECT_OWNER"]).to_string());
        self.members.push((user, org, project, roles.collect()));
    }

    fn remove_user(&mut self, id: &str) {
        self.users.retain(|u| u.0 != id);
        self.memberships.retain(|m| m.0 != id);
        self.idp.retain(|l| l.0 != id);
    }

    /// One change of the kinds the peers make.
    fn mutate(&mut self, rng: &mut Rng) {
        let pick = |rng: &mut Rng, n: usize| (n > 0).then(|| rng.below(n));
        match rng.below(23) {
            0 => self.add_task(rng),
            1 => {
                if let Some(t) = pick(rng, self.tasks.len()) {
                    let link = self.link(rng);
                    let links = &mut self.tasks[t].4;
                    links.insert(rng.below(links.len() + 1), link);
                }
            }
            2 => {
                if let Some(t) = pick(rng, self.tasks.len()) {
                    if let Some(l) = pick(rng, self.tasks[t].4.len()) {
                        self.tasks[t].4.remove(l);
                    }
                }
            }
            3 => {
                // A link deleted and another added in its place (a VACUUM reusing the space).
                if let Some(t) = pick(rng, self.tasks.len()) {
                    if let Some(l) = pick(rng, self.tasks[t].4.len()) {
                        self.tasks[t].4[l] = self.link(rng);
                    }
                }
            }
            4 => {
                if let Some(t) = pick(rng, self.tasks.len()) {
                    self.tasks[t].1 = rng.chance(80).then(|| self.user(rng));
                }
            }
            5 => {
                if let Some(t) = pick(rng, self.tasks.len()) {
                    self.tasks[t].2 = rng.chance(80).then(|| self.user(rng));
                }
            }
            6 => {
                // A task completed.
                if let Some(t) = pick(rng, self.tasks.len()) {
                    self.tasks.remove(t);
                }
            }
            7 => self.add_user(rng),
            8 => {
                if let Some(u) = pick(rng, self.users.len()) {
                    let id = self.users[u].0.clone();
                    self.remove_user(&id);
                }
            }
            9 => {
                if let Some(u) = pick(rng, self.users.len()) {
                    self.users[u].1 = opt(rng, NAMES);
                    self.users[u].2 = opt(rng, NAMES);
                }
            }
            10 => {
                if let Some(g) = pick(rng, self.groups.len()) {
                    self.groups[g].1 = opt(rng, NAMES);
                }
            }
            11 => self.add_membership(rng),
            12 => {
                if let Some(m) = pick(rng, self.memberships.len()) {
                    self.memberships.remove(m);
                }
            }
            13 => self.add_idp(rng),
            14 => {
                if let Some(l) = pick(rng, self.idp.len()) {
                    self.idp.remove(l);
                }
            }
            15 => {
                // An organisation's data removed.
                let org = Some(rng.pick(ORGS).to_string());
                let gone: Vec<String> = self.users.iter().filter(|u| u.3 == org).map(|u| u.0.clone()).collect();
                for id in gone {
                    self.remove_user(&id);
                }
                self.members.retain(|m| m.1 != org);
            }
            16 => self.add_authz(rng),
            17 => {
                if let Some(a) = pick(rng, self.authz.len()) {
                    if rng.chance(50) {
                        self.authz.remove(a);
                    } else {
                        self.authz[a].5 = rng.below(64) as i32;
                    }
                }
                self.enabled = rng.chance(50);
            }
            18 => {
                self.sequence += 1 + rng.below(5) as u64;
                self.timestamp = *rng.pick(&["2025-01-01T10:00:01Z", "2025-06-01T00:00:00.000001Z"]);
            }
            19 => {
                if let Some(m) = pick(rng, self.members.len()) {
                    if rng.chance(50) {
                        self.members.remove(m);
                    } else {
                        self.members[m].3.push("ORG_USER_MANAGER".into());
                    }
                } else {
                    self.add_member(rng);
                }
            }
            20 => self.add_group(rng),
            // The source's order carried or not: every group's and member's rank comes or goes.
            21 => self.ranked = !self.ranked,
            _ => {
                if let Some(g) = pick(rng, self.groups.len()) {
                    let id = self.groups.remove(g).0;
                    self.memberships.retain(|m| m.1 != id);
                    for t in &mut self.tasks {
                        t.4.retain(|l| !(l.0 && l.1 == id));
                    }
                    self.authz.retain(|a| !(a.1 && a.2 == id));
                }
            }
        }
    }

    fn to_json(&self) -> String {
        let rank = |r: u32| if self.ranked { format!(r#","rank":{r}"#) } else { String::new() };
        let users: Vec<String> = self
            .users
            .iter()
            .map(|(id, first, last, org)| {
                let org = org.as_ref().map_or(String::new(), |o| format!(r#","org":{}"#, q(o)));
                format!(r#"{{"id":{},"firstName":{},"lastName":{}{org}}}"#, q(id), json(first), json(last))
            })
            .collect();
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|(id, name, r)| format!(r#"{{"id":{},"name":{}{}}}"#, q(id), json(name), rank(*r)))
            .collect();
        let memberships: Vec<String> = self
            .memberships
            .iter()
            .map(|(u, g, r)| format!(r#"{{"userId":{},"groupId":{}{}}}"#, q(u), q(g), rank(*r)))
            .collect();
        let tasks: Vec<String> = self
            .tasks
            .iter()
            .map(|(id, assignee, owner, def, links)| {
                let links: Vec<String> = links
                    .iter()
                    .map(|(group, id, kind)| {
                        let field = if *group { "groupId" } else { "userId" };
                        format!(r#"{{"{field}":{},"type":{}}}"#, q(id), q(kind))
                    })
                    .collect();
                let def = def.as_ref().map_or(String::new(), |d| format!(r#","processDefinitionKey":{}"#, q(d)));
                format!(
                    r#"{{"id":{},"assignee":{},"owner":{}{def},"identityLinks":[{}]}}"#,
                    q(id),
                    json(assignee),
                    json(owner),
                    links.join(",")
                )
            })
            .collect();
        let idp: Vec<String> = self
            .idp
            .iter()
            .map(|(u, i, p, n)| {
                format!(
                    r#"{{"userId":{},"idpId":{},"providedUserId":{},"providedUserName":{}}}"#,
                    q(u),
                    q(i),
                    q(p),
                    q(n)
                )
            })
            .collect();
        let authz: Vec<String> = self
            .authz
            .iter()
            .map(|(kind, group, owner, rt, resource, perms)| {
                let field = if *group { "groupId" } else { "userId" };
                format!(
                    r#"{{"type":{kind},"{field}":{},"resourceType":{rt},"resourceId":{},"permissions":{perms}}}"#,
                    q(owner),
                    q(resource)
                )
            })
            .collect();
        let members: Vec<String> = self
            .members
            .iter()
            .map(|(u, org, project, roles)| {
                let org = org.as_ref().map_or(String::new(), |o| format!(r#","org":{}"#, q(o)));
                let project = project.as_ref().map_or(String::new(), |p| format!(r#","project":{}"#, q(p)));
                let roles: Vec<String> = roles.iter().map(|r| q(r)).collect();
                format!(r#"{{"userId":{}{org}{project},"roles":[{}]}}"#, q(u), roles.join(","))
            })
            .collect();
        format!(
            r#"{{"version":1,"sequence":"{}","timestamp":"{}","users":[{}],"groups":[{}],"memberships":[{}],"tasks":[{}],"idpLinks":[{}],"authorizations":[{}],"authorizationEnabled":{},"zitadelMembers":[{}]}}"#,
            self.sequence,
            self.timestamp,
            users.join(","),
            groups.join(","),
            memberships.join(","),
            tasks.join(","),
            idp.join(","),
            authz.join(","),
            self.enabled,
            members.join(",")
        )
    }

    fn load(&self) -> Snapshot {
        let text = self.to_json();
        Snapshot::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("the model is a snapshot: {e}\n{text}"))
    }

    /// Every query's answer for every id the model knows (and one it does not).
    fn answers(&self, snapshot: &Snapshot) -> Vec<String> {
        let obj =
            |members: Vec<(&str, Value)>| Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect());
        let mut out = Vec::new();
        let mut run = |query: Query, request: Value| {
            let mut body = Vec::new();
            let answer = match snapshot.run(query, &request, None, &mut body) {
                Ok(()) => String::from_utf8_lossy(&body).into_owned(),
                Err(e) => e.body_json(),
            };
            out.push(answer);
        };
        for (id, ..) in self.tasks.iter().chain([&("nobody".into(), None, None, None, Vec::new())]) {
            run(Query::IdentityLinks, obj(vec![("taskId", Value::String(id.clone()))]));
        }
        for id in self.users.iter().map(|u| u.0.clone()).chain(["nobody".into()]) {
            run(Query::UserGroups, obj(vec![("userId", Value::String(id.clone()))]));
            run(Query::from_name("listIdpLinks").expect("a query"), obj(vec![("userId", Value::String(id))]));
        }
        out
    }
}

/// Applies `delta` to `snapshot`, which must then be `newer` byte for byte, in version, and in
/// every answer `model` asks for.
fn assert_becomes(snapshot: &mut Snapshot, delta: &[u8], newer: &Snapshot, model: &Model, what: &str) {
    snapshot.apply_delta(delta).unwrap_or_else(|e| panic!("{what}: refused: {e}"));
    assert!(snapshot.to_bytes() == newer.to_bytes(), "{what}: the binary forms differ");
    assert_eq!(snapshot.version(), newer.version(), "{what}");
    assert_eq!(model.answers(snapshot), model.answers(newer), "{what}");
}

#[test]
fn a_delta_makes_the_newer_snapshot_whatever_changed() {
    for seed in 0..300 {
        let mut rng = Rng::new(seed);
        let mut model = Model::random(&mut rng);
        let mut old = model.load();
        for step in 0..6 {
            for _ in 0..1 + rng.below(3) {
                model.mutate(&mut rng);
            }
            let newer = model.load();
            let delta = old.delta_to(&newer);
            assert_becomes(&mut old, &delta, &newer, &model, &format!("seed {seed}, step {step}"));
        }
    }
}

#[test]
fn a_delta_to_the_empty_snapshot_and_back_makes_each() {
    // No strings at all on the way: the strings' index goes, then comes back.
    for seed in 0..20 {
        let mut rng = Rng::new(500 + seed);
        let model = Model::random(&mut rng);
        let empty = Model {
            users: Vec::new(),
            groups: Vec::new(),
            memberships: Vec::new(),
            tasks: Vec::new(),
            idp: Vec::new(),
            authz: Vec::new(),
            members: Vec::new(),
            ..model.clone()
        };
        assert_eq!(empty.load().strings.len(), 0, "no strings");
        let (full, none) = (model.load(), empty.load());
        let mut s = full.clone();
        assert_becomes(&mut s, &full.delta_to(&none), &none, &empty, &format!("seed {seed}, emptied"));
        assert_becomes(&mut s, &none.delta_to(&full), &full, &model, &format!("seed {seed}, filled again"));
    }
}

#[test]
fn chains_of_deltas_applied_in_order_make_the_last_snapshot() {
    for seed in 0..100 {
        let mut rng = Rng::new(1000 + seed);
        let mut model = Model::random(&mut rng);
        let mut states = vec![model.load()];
        for _ in 0..3 {
            model.mutate(&mut rng);
            model.mutate(&mut rng);
            states.push(model.load());
        }
        let deltas: Vec<Vec<u8>> = states.windows(2).map(|w| w[0].delta_to(&w[1])).collect();
        let mut s = states[0].clone();
        for d in &deltas {
            s.apply_delta(d).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
        assert!(s.to_bytes() == states[3].to_bytes(), "seed {seed}");
        assert_eq!(model.answers(&s), model.answers(&states[3]));
        // The same change made on another path gives the same version.
        let mut direct = states[0].clone();
        direct.apply_delta(&states[0].delta_to(&states[3])).expect("a direct delta applies");
        assert_eq!(direct.version(), s.version());
    }
}

/// A small chain a → b → c → d (every kind of row changed at least once along it).
fn chain() -> (Vec<Snapshot>, Vec<Vec<u8>>, Model) {
    let mut rng = Rng::new(7);
    let mut model = Model::random(&mut rng);
    let mut states = vec![model.load()];
    for _ in 0..3 {
        for _ in 0..4 {
            model.mutate(&mut rng);
        }
        states.push(model.load());
    }
    let deltas = states.windows(2).map(|w| w[0].delta_to(&w[1])).collect();
    (states, deltas, model)
}

/// `delta` applied to `snapshot` is refused, and the snapshot is as it was and still answers.
fn assert_refused(snapshot: &mut Snapshot, delta: &[u8], model: &Model, what: &str) -> DeltaError {
    let (before, answers) = (snapshot.to_bytes(), model.answers(snapshot));
    let error = snapshot.apply_delta(delta).expect_err(what);
    assert!(snapshot.to_bytes() == before, "{what}: the snapshot changed");
    assert_eq!(model.answers(snapshot), answers, "{what}: the answers changed");
    error
}

#[test]
fn wrong_bases_gaps_reorders_and_repeats_are_refused_naming_both_versions() {
    let (states, deltas, model) = chain();
    let v: Vec<_> = states.iter().map(Snapshot::version).collect();
    let wrong_base = |expected, found| DeltaError::WrongBase { expected, found };
    // Another base: the delta b → c on a.
    let mut a = states[0].clone();
    assert_eq!(assert_refused(&mut a, &deltas[1], &model, "another base"), wrong_base(v[1], v[0]));
    // A gap: a → b applied, then c → d.
    a.apply_delta(&deltas[0]).expect("a → b applies");
    assert_eq!(assert_refused(&mut a, &deltas[2], &model, "a gap"), wrong_base(v[2], v[1]));
    // A repeat: a → b again.
    assert_eq!(assert_refused(&mut a, &deltas[0], &model, "twice"), wrong_base(v[0], v[1]));
    // Out of order: c → d before b → c.
    assert_eq!(assert_refused(&mut a, &deltas[2], &model, "out of order"), wrong_base(v[2], v[1]));
    a.apply_delta(&deltas[1]).expect("b → c applies");
    a.apply_delta(&deltas[2]).expect("c → d applies");
    assert_eq!(a.version(), v[3]);
    let message = wrong_base(v[2], v[3]).to_string();
    assert!(message.contains(&v[2].to_string()) && message.contains(&v[3].to_string()), "{message}");
}

#[test]
fn a_delta_header_is_read_without_a_snapshot_and_names_both_states() {
    let (states, deltas, _) = chain();
    for (i, delta) in deltas.iter().enumerate() {
        let (h, edits) = DeltaHeader::read(delta).expect("a delta deltaTo made");
        let newer = &states[i + 1];
        assert_eq!((h.from, h.to), (states[i].version(), newer.version()), "delta {i}: the versions");
        assert_eq!(h.sequence.to_string(), newer.sequence_text(), "delta {i}: the sequence");
        assert_eq!(h.timestamp.render(), newer.timestamp_text(), "delta {i}: the timestamp");
        assert!(!edits.is_empty() && edits.len() % 4 == 0, "delta {i}: the edits are words");
    }
    // Whatever apply_delta calls damaged, the header read refuses, for the same reason.
    let delta = &deltas[0];
    let mut a = states[0].clone();
    for len in (0..delta.len()).step_by(7) {
        let why = DeltaHeader::read(&delta[..len]).expect_err("a truncated delta");
        assert_eq!(a.apply_delta(&delta[..len]), Err(DeltaError::Damaged { why, found: states[0].version() }));
    }
    let mut flipped = delta.clone();
    flipped[20] ^= 1;
    assert_eq!(
        DeltaHeader::read(&flipped).expect_err("a flipped version"),
        "its checksum does not match (truncated or altered)"
    );
    assert_eq!(DeltaError::Unreadable { why: "x" }.to_string(), "the delta is damaged: x");
    // A timestamp out of range (nanoseconds ≥ 1e9) under a right checksum: refused, as a
    // snapshot's would be at load.
    let mut odd = delta.clone();
    odd[48..52].copy_from_slice(&2_000_000_000u32.to_le_bytes());
    let body = odd.len() - 8;
    let sum = identity_links_tables::words::hash(&odd[..body]).to_le_bytes();
    odd[body..].copy_from_slice(&sum);
    assert_eq!(DeltaHeader::read(&odd).expect_err("an invalid timestamp"), "its header is inconsistent");
}

#[test]
fn every_truncation_and_bit_flip_is_refused() {
    let (states, deltas, model) = chain();
    let delta = &deltas[0];
    assert!(delta.len() < 2000, "a small delta ({} bytes)", delta.len());
    let mut a = states[0].clone();
    for len in 0..delta.len() {
        let e = assert_refused(&mut a, &delta[..len], &model, &format!("truncated to {len}"));
        assert!(matches!(e, DeltaError::Damaged { found, .. } if found == states[0].version()), "{e}");
    }
    for i in 0..delta.len() {
        for bit in 0..8 {
            let mut bad = delta.clone();
            bad[i] ^= 1 << bit;
            let e = assert_refused(&mut a, &bad, &model, &format!("bit {bit} of byte {i}"));
            assert!(matches!(e, DeltaError::Damaged { .. }), "bit {bit} of byte {i}: {e}");
        }
    }
    a.apply_delta(delta).expect("the intact delta still applies");
    assert!(a.to_bytes() == states[1].to_bytes());
}

#[test]
fn a_delta_with_a_right_checksum_but_wrong_rows_is_refused() {
    let (states, deltas, model) = chain();
    let delta = &deltas[0];
    let body = delta.len() - 8;
    let mut refused = 0;
    // Each word of the edits changed, the checksum made right again.
    for at in (52..body).step_by(4) {
        let mut bad = delta.clone();
        bad[at] = bad[at].wrapping_add(1);
        let sum = identity_links_tables::words::hash(&bad[..body]);
        bad[body..].copy_from_slice(&sum.to_le_bytes());
        let mut a = states[0].clone();
        let e = assert_refused(&mut a, &bad, &model, &format!("word at {at}"));
        assert!(matches!(e, DeltaError::Invalid { .. } | DeltaError::Mismatch { .. }), "{e}");
        refused += 1;
    }
    assert!(refused > 10);
}

#[test]
fn a_delta_refused_once_every_table_is_edited_is_undone_whole() {
    // Each delta of a chain, the version it makes altered and its checksum made right again:
    // every row reads and every table is edited in place before the result's version is found
    // to be another, so the refusal undoes every edit (and the strings' edit).
    let (states, deltas, model) = chain();
    for (i, delta) in deltas.iter().enumerate() {
        let body = delta.len() - 8;
        let mut bad = delta.clone();
        bad[24] ^= 1;
        let sum = identity_links_tables::words::hash(&bad[..body]);
        bad[body..].copy_from_slice(&sum.to_le_bytes());
        let mut a = states[i].clone();
        let e = assert_refused(&mut a, &bad, &model, &format!("delta {i}, its newer version altered"));
        assert!(matches!(e, DeltaError::Mismatch { .. }), "delta {i}: {e}");
        assert!(a == states[i], "delta {i}: every column as it was");
        a.apply_delta(delta).expect("the intact delta then applies");
        assert!(a.to_bytes() == states[i + 1].to_bytes(), "delta {i} after the refusal");
    }
}

#[test]
fn a_delta_grows_with_what_changed_not_with_the_snapshot() {
    // 2000 users share a first name; renaming the first moves that name's first appearance (and
    // so its place in the string table) 2000 strings later.
    let doc = |first: &str| {
        let users: Vec<String> = (0..2000)
            .map(|u| {
                format!(r#"{{"id":"u{u}","firstName":"{}","lastName":"L{u}"}}"#, if u == 0 { first } else { "Name" })
            })
            .collect();
        Snapshot::from_json(format!(r#"{{"version":1,"users":[{}]}}"#, users.join(",")).as_bytes()).expect("loads")
    };
    let (a, b) = (doc("Name"), doc("Renamed"));
    let delta = a.delta_to(&b);
    assert!(delta.len() < 200, "{} bytes for one renamed user", delta.len());
    let mut s = a.clone();
    s.apply_delta(&delta).expect("applies");
    assert!(s.to_bytes() == b.to_bytes());
}
