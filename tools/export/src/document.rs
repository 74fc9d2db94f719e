//! The snapshot document as the sources fill it: its JSON text, written as rows arrive (groups,
//! memberships, tasks, IdP links), and the users, which both sources contribute to and which are
//! merged by id before they are written. The finished text is loaded by the core's loader, the
//! one `Snapshot.fromJson` runs: whatever it would refuse, the export refuses with its message.

use identity_links::json::writer::write_opt_str;
use identity_links::Snapshot;
use identity_links_text::escape::write_str;
use std::collections::HashMap;
use std::io::Write;

/// A user as the sources describe it.
#[derive(Debug, Default)]
struct User {
    id: String,
    first: Option<String>,
    last: Option<String>,
    org: Option<String>,
    /// Whether Camunda has the user (its names then win: they are what Camunda's own answers show).
    in_camunda: bool,
}

/// A snapshot document being filled.
pub struct Document {
    /// `{"version":1` and the `,"key":[...]` sections so far (sequence and timestamp, known
    /// last, close the document).
    text: Vec<u8>,
    /// The section being written: its array's elements so far.
    open: Option<usize>,
    users: Vec<User>,
    user_at: HashMap<String, usize>,
    sequence: u64,
    timestamp: Option<String>,
    /// `authorizationEnabled` (Camunda's engine configuration, not its database).
    authorization_enabled: bool,
}

/// A task's stored identity link.
pub struct Link {
    pub user: Option<String>,
    pub group: Option<String>,
    pub kind: Option<String>,
}

impl Document {
    pub fn new() -> Document {
        Document {
            text: br#"{"version":1"#.to_vec(),
            open: None,
            users: Vec::new(),
            user_at: HashMap::new(),
            sequence: 0,
            timestamp: None,
            authorization_enabled: false,
        }
    }

    /// Opens the array section `key` (closing the one before).
    pub fn section(&mut self, key: &str) {
        self.close();
        self.text.push(b',');
        write_str(&mut self.text, key);
        self.text.extend_from_slice(b":[");
        self.open = Some(0);
    }

    /// How many bytes of text the document has so far.
    pub fn written(&self) -> usize {
        self.text.len()
    }

    fn close(&mut self) {
        if self.open.take().is_some() {
            self.text.push(b']');
        }
    }

    /// Starts the next element of the open section.
    fn element(&mut self) {
        if let Some(n) = &mut self.open {
            if *n > 0 {
                self.text.push(b',');
            }
            *n += 1;
        }
    }

    /// Appends `"key":value` pairs as one object element.
    fn object(&mut self, fields: &[(&str, Option<&str>)]) {
        self.element();
        self.text.push(b'{');
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                self.text.push(b',');
            }
            write_str(&mut self.text, key);
            self.text.push(b':');
            write_opt_str(&mut self.text, *value);
        }
        self.text.push(b'}');
    }

    /// A user from Camunda (`ACT_ID_USER`).
    pub fn camunda_user(&mut self, id: String, first: Option<String>, last: Option<String>) {
        let at = self.user(id);
        let user = &mut self.users[at];
        (user.first, user.last, user.in_camunda) = (first, last, true);
    }

    /// A user from Zitadel: its organisation, and its names where Camunda has none for it.
    pub fn zitadel_user(&mut self, id: String, org: String, first: Option<String>, last: Option<String>) {
        let at = self.user(id);
        let user = &mut self.users[at];
        user.org = Some(org);
        if !user.in_camunda {
            (user.first, user.last) = (first, last);
        }
    }

    fn user(&mut self, id: String) -> usize {
        if let Some(&at) = self.user_at.get(&id) {
            return at;
        }
        let at = self.users.len();
        self.user_at.insert(id.clone(), at);
        self.users.push(User { id, ..User::default() });
        at
    }

    /// A group (`ACT_ID_GROUP`), in the open `groups` section.
    pub fn group(&mut self, id: &str, name: Option<&str>, rank: u32) {
        self.object(&[("id", Some(id)), ("name", name)]);
        self.rank(rank);
    }

    /// A membership with its member's rank among the group's members, in the open
    /// `memberships` section.
    pub fn membership(&mut self, user: &str, group: &str, rank: u32) {
        self.element();
        write_membership(&mut self.text, user, group, rank);
    }

    /// Adds `,"rank":N` to the object just written (docs/semantics.md, "The source's order").
    fn rank(&mut self, rank: u32) {
        // The closing brace goes, then the rank and the brace are written in place: no string
        // made per row. Writing to a vector cannot fail.
        self.text.pop();
        let _ = write!(self.text, r#","rank":{rank}}}"#);
    }

    /// A task with its process definition's key (none for a standalone task) and its stored
    /// identity links in order, in the open `tasks` section.
    pub fn task(
        &mut self,
        id: &str,
        assignee: Option<&str>,
        owner: Option<&str>,
        definition: Option<&str>,
        links: &[Link],
    ) {
        self.element();
        write_task(&mut self.text, id, assignee, owner, definition, links);
    }

    /// An element written before by [`write_task`], in the open `tasks` section: what the
    /// follower keeps of a task, so that a step copies the tasks it did not re-read.
    pub fn task_written(&mut self, element: &[u8]) {
        self.element();
        self.text.extend_from_slice(element);
    }

    /// An IdP link, in the open `idpLinks` section.
    pub fn idp_link(&mut self, user: &str, idp: &str, provided_id: &str, provided_name: &str) {
        let fields = [
            ("userId", Some(user)),
            ("idpId", Some(idp)),
            ("providedUserId", Some(provided_id)),
            ("providedUserName", Some(provided_name)),
        ];
        self.object(&fields);
    }

    /// A row of `ACT_RU_AUTHORIZATION`, in the open `authorizations` section: `userId` or
    /// `groupId` as the row has them (the loader refuses a row that fits no type).
    pub fn authorization(
        &mut self,
        kind: i32,
        user: Option<&str>,
        group: Option<&str>,
        resource_type: i32,
        resource: &str,
        perms: i32,
    ) {
        self.element();
        self.text.extend_from_slice(format!(r#"{{"type":{kind}"#).as_bytes());
        for (key, value) in [(&br#","userId":"#[..], user), (&br#","groupId":"#[..], group)] {
            if let Some(value) = value {
                self.text.extend_from_slice(key);
                write_str(&mut self.text, value);
            }
        }
        self.text.extend_from_slice(format!(r#","resourceType":{resource_type},"resourceId":"#).as_bytes());
        write_str(&mut self.text, resource);
        self.text.extend_from_slice(format!(r#","permissions":{perms}}}"#).as_bytes());
    }

    /// Camunda's `authorizationEnabled` (`--camunda-authorization-enabled`).
    pub fn authorization_enabled(&mut self, enabled: bool) {
        self.authorization_enabled = enabled;
    }

    /// A Zitadel membership (`org` none: the instance; `project`: a project's or a project
    /// grant's, scoping its permissions) with its roles, in the open `zitadelMembers` section.
    pub fn member(&mut self, user: &str, org: Option<&str>, project: Option<&str>, roles: &[String]) {
        self.element();
        self.text.extend_from_slice(br#"{"userId":"#);
        write_str(&mut self.text, user);
        if let Some(org) = org {
            self.text.extend_from_slice(br#","org":"#);
            write_str(&mut self.text, org);
        }
        if let Some(project) = project {
            self.text.extend_from_slice(br#","project":"#);
            write_str(&mut self.text, project);
        }
        self.text.extend_from_slice(br#","roles":["#);
        for (i, role) in roles.iter().enumerate() {
            if i > 0 {
                self.text.push(b',');
            }
            write_str(&mut self.text, role);
        }
        self.text.extend_from_slice(b"]}");
    }

    /// Zitadel's projection state: `processedSequence` and the `timestamp` of its last event
    /// (RFC 3339).
    pub fn state(&mut self, sequence: u64, timestamp: Option<String>) {
        (self.sequence, self.timestamp) = (sequence, timestamp);
    }

    /// The whole document's JSON text: the sections, the merged users, then the state.
    pub fn text(mut self) -> Vec<u8> {
        self.write_users();
        write_tail(&mut self.text, self.authorization_enabled, self.sequence, self.timestamp.as_deref());
        self.text
    }

    /// A document's part, written after `text` (the follower's cache of sections: `follow::render`):
    /// what is written to it is appended to `text` without the document's opening.
    pub fn fragment(text: Vec<u8>) -> Document {
        Document { text, ..Document::new() }
    }

    /// The text of a [`Document::fragment`]: what it was given with the sections written to it
    /// (the users given to it are left out: [`Document::users_fragment`]).
    pub fn into_fragment(mut self) -> Vec<u8> {
        self.close();
        self.text
    }

    /// The text of a [`Document::fragment`] with its merged users' section written last, as the
    /// whole document writes them.
    pub fn users_fragment(mut self) -> Vec<u8> {
        self.write_users();
        self.text
    }

    /// Closes the open section and writes the `users` section of the users given so far.
    fn write_users(&mut self) {
        self.close();
        let users = std::mem::take(&mut self.users);
        self.section("users");
        for user in &users {
            let mut fields = vec![
                ("id", Some(user.id.as_str())),
                ("firstName", user.first.as_deref()),
                ("lastName", user.last.as_deref()),
            ];
            if let Some(org) = &user.org {
                fields.push(("org", Some(org.as_str())));
            }
            self.object(&fields);
        }
        self.close();
    }

    /// The validated snapshot, or the loader's refusal (which names the JSON path of the first bad
    /// value).
    pub fn finish(self) -> Result<Snapshot, String> {
        load(&self.text())
    }
}

/// Writes the document's end after its sections: `authorizationEnabled` (when on), `sequence`
/// and `timestamp` (when known), and the closing brace.
pub fn write_tail(out: &mut Vec<u8>, authorization_enabled: bool, sequence: u64, timestamp: Option<&str>) {
    if authorization_enabled {
        out.extend_from_slice(br#","authorizationEnabled":true"#);
    }
    out.extend_from_slice(format!(r#","sequence":"{sequence}""#).as_bytes());
    if let Some(timestamp) = timestamp {
        out.extend_from_slice(br#","timestamp":"#);
        write_str(out, timestamp);
    }
    out.push(b'}');
}

/// The snapshot a document's whole text makes, or the loader's refusal (which names the JSON
/// path of the first bad value).
pub fn load(text: &[u8]) -> Result<Snapshot, String> {
    Snapshot::from_json(text).map_err(|e| format!("the databases' data is not a valid snapshot: {e}"))
}

/// Appends a membership's element of the `memberships` section (`{"userId":…,"groupId":…,
/// "rank":N}`): [`Document::membership`]'s, and the follower's for the parts it writes again.
pub fn write_membership(out: &mut Vec<u8>, user: &str, group: &str, rank: u32) {
    out.extend_from_slice(br#"{"userId":"#);
    write_str(out, user);
    out.extend_from_slice(br#","groupId":"#);
    write_str(out, group);
    // Writing to a vector cannot fail.
    let _ = write!(out, r#","rank":{rank}}}"#);
}

/// Appends a task's element of the `tasks` section (the one-shot export writes it in place, the
/// follower keeps it per task: the same bytes either way).
pub fn write_task(
    out: &mut Vec<u8>,
    id: &str,
    assignee: Option<&str>,
    owner: Option<&str>,
    definition: Option<&str>,
    links: &[Link],
) {
    out.extend_from_slice(br#"{"id":"#);
    write_str(out, id);
    out.extend_from_slice(br#","assignee":"#);
    write_opt_str(out, assignee);
    out.extend_from_slice(br#","owner":"#);
    write_opt_str(out, owner);
    if let Some(key) = definition {
        out.extend_from_slice(br#","processDefinitionKey":"#);
        write_str(out, key);
    }
    out.extend_from_slice(br#","identityLinks":["#);
    for (i, link) in links.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"userId":"#);
        write_opt_str(out, link.user.as_deref());
        out.extend_from_slice(br#","groupId":"#);
        write_opt_str(out, link.group.as_deref());
        out.extend_from_slice(br#","type":"#);
        write_opt_str(out, link.kind.as_deref());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}
