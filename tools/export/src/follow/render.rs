//! The followed state's document, written again at every step that changed something, with the
//! text of each section kept until the rows it was written from change ([`Tracked`] stamps).
//!
//! A step usually changes one part of the state (a task, a membership, a user): its section is
//! written again and the others are copied. At 1M links, writing every section took 0.32–0.38 s
//! of each step (the 500,000 memberships, the users merged from both sources, the IdP links
//! sorted); `bench/RESULTS.md` has what the cache changed. The memberships' section is kept in
//! parts of consecutive users ([`MembershipChunks`]), so a membership changed writes ~4,096 rows
//! again, not 500,000. The tasks are not cached: each is
//! kept as its element already ([`super::model::Task`]), so their section is a copy either way.
//! The text is the one [`Model`] rendered through a single [`Document`] before, byte for byte:
//! each section is written by the same `Document` calls, in the same order.
//!
//! [`Tracked`]: super::model::Tracked

use super::model::{next_stamp, Camunda, Memberships, Model, ProjectMember, Zitadel};
use crate::document::{write_membership, write_tail, Document};
use std::ops::Bound;

/// A section's text and the stamps of the parts it was written from.
struct Section {
    stamps: Vec<u64>,
    text: Vec<u8>,
}

/// The sections that are cached whole, in the document's order (the memberships are cached in
/// parts: [`MembershipChunks`]).
#[derive(Clone, Copy)]
enum Part {
    Groups,
    Authorizations,
    IdpLinks,
    Members,
    Users,
}

const PARTS: usize = 5;

/// About how many memberships one kept part of their section holds (each part is all the rows of
/// consecutive users): a change writes its users' parts again, ~4,096 rows each, instead of all.
const CHUNK_ROWS: usize = 4096;

/// The memberships' section in parts, each the rows of the users from its first on.
#[derive(Default)]
struct MembershipChunks {
    /// The [`Memberships::id`] they were written from (none yet: 0, which none has).
    of: u64,
    /// When they were last written ([`next_stamp`]).
    at: u64,
    /// Each part's first user (the first part's is `""`, before every user) and its rows' text.
    parts: Vec<(String, Vec<u8>)>,
}

/// Renders a [`Model`]'s document, keeping each section's text between steps.
#[derive(Default)]
pub struct Renderer {
    /// The last document's text, or its first part (its buffer is kept for the next one).
    text: Vec<u8>,
    /// The last document's second part ([`Renderer::render_parts`]), or nothing.
    rest: Vec<u8>,
    /// Where the last document's tasks began, and how many bytes their elements took.
    tasks: (usize, usize),
    sections: [Option<Section>; PARTS],
    memberships: MembershipChunks,
    /// How many sections were written (not copied) so far: for the tests.
    written: usize,
}

impl Renderer {
    /// The document of `m`'s state, as the one-shot export would write it, in one part.
    #[cfg(test)]
    fn render(&mut self, m: &Model) -> &[u8] {
        self.render_parts(m, usize::MAX).0
    }

    /// [`Renderer::render_parts`] cut in the middle of the last document's tasks (none the
    /// first time): the largest section, which the two parts then share. At 1M links the cut
    /// falls near the document's middle (its tasks are 60% of it, after 15%).
    pub fn render_halves(&mut self, m: &Model) -> (&[u8], &[u8]) {
        let (start, bytes) = self.tasks;
        self.render_parts(m, if bytes == 0 { usize::MAX } else { start + bytes / 2 })
    }

    /// The document of `m`'s state cut in two ([`crate::parts`]), to be read on two threads: the
    /// first part ends after the first task that takes it to `cut` bytes; the second holds the
    /// rest. When no task does (or there are none), the first part is the whole document and the
    /// second is empty.
    pub fn render_parts(&mut self, m: &Model, cut: usize) -> (&[u8], &[u8]) {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        text.extend_from_slice(br#"{"version":1"#);
        let mut rest = std::mem::take(&mut self.rest);
        rest.clear();
        let (c, z) = (m.camunda.as_ref(), m.zitadel.as_ref());
        if let Some(c) = c {
            self.section(&mut text, Part::Groups, &[c.groups.stamp()], &|| groups(c));
            self.memberships(&mut text, &c.memberships);
            let mut d = Document::fragment(text);
            d.section("tasks");
            self.tasks = (d.written(), c.tasks.values().map(|t| t.element.len()).sum());
            let mut tasks = c.tasks.values();
            for t in tasks.by_ref() {
                d.task_written(&t.element);
                if d.written() >= cut {
                    break;
                }
            }
            text = d.into_fragment();
            if tasks.len() > 0 {
                // Cut after this task: the first part closed as a document (its tasks' array
                // closed already), the second opened as one, with the rest of the tasks.
                text.push(b'}');
                rest.extend_from_slice(br#"{"version":1"#);
                let mut d = Document::fragment(rest);
                d.section("tasks");
                for t in tasks {
                    d.task_written(&t.element);
                }
                rest = d.into_fragment();
                std::mem::swap(&mut text, &mut rest);
            }
            // From here on `text` is the part being written; `rest`, if not empty, the first.
            self.section(&mut text, Part::Authorizations, &[c.authorizations.stamp()], &|| authorizations(c));
        }
        if let Some(z) = z {
            self.section(&mut text, Part::IdpLinks, &[z.links.stamp()], &|| idp_links(z));
            let stamps = [z.instance_members.stamp(), z.org_members.stamp(), z.project_members.stamp()];
            self.section(&mut text, Part::Members, &stamps, &|| members(z));
        }
        // A part that is not followed has no stamp: 0, which no part has.
        let stamps = [c.map_or(0, |c| c.users.stamp()), z.map_or(0, |z| z.users.stamp())];
        self.section(&mut text, Part::Users, &stamps, &|| users(c, z));
        let (sequence, timestamp) = z.map_or((0, None), |z| (z.sequence, z.timestamp.as_deref()));
        write_tail(&mut text, c.is_some() && m.authorization_enabled, sequence, timestamp);
        if !rest.is_empty() {
            std::mem::swap(&mut text, &mut rest);
        }
        (self.text, self.rest) = (text, rest);
        (&self.text, &self.rest)
    }

    /// Lets `m`'s memberships forget the changes this renderer has written (the text it keeps
    /// has them): after each render, so that what they note stays what the next one needs.
    pub fn forget_written(&self, m: &mut Model) {
        let kept = &self.memberships;
        if let Some(c) = m.camunda.as_mut().filter(|c| c.memberships.id() == kept.of) {
            c.memberships.forget_before(kept.at);
        }
    }

    /// How many sections were written rather than copied since the renderer was made.
    #[cfg(test)]
    fn sections_written(&self) -> usize {
        self.written
    }

    /// Appends the memberships' section to `text`, writing again the parts whose users changed
    /// since it was last written (all of them for another set of memberships, split anew).
    fn memberships(&mut self, text: &mut Vec<u8>, m: &Memberships) {
        let kept = &mut self.memberships;
        let now = next_stamp();
        if kept.of != m.id() {
            self.written += 1;
            kept.parts = membership_parts(String::new(), m.iter());
        } else {
            let mut dirty: Vec<usize> = m
                .changed_after(kept.at)
                .map(|user| kept.parts.partition_point(|(first, _)| first.as_str() <= user) - 1)
                .collect();
            dirty.sort_unstable();
            dirty.dedup();
            if !dirty.is_empty() {
                self.written += 1;
            }
            // From the last, so that a part split in several leaves the places before it as they are.
            for i in dirty.into_iter().rev() {
                let to = kept.parts.get(i + 1).map_or(Bound::Unbounded, |(first, _)| Bound::Excluded(first.as_str()));
                let first = kept.parts[i].0.clone();
                let parts = membership_parts(first, m.users((Bound::Included(kept.parts[i].0.as_str()), to)));
                kept.parts.splice(i..=i, parts);
            }
        }
        (kept.of, kept.at) = (m.id(), now);
        text.extend_from_slice(br#","memberships":["#);
        let mut first = true;
        for (_, part) in kept.parts.iter().filter(|(_, part)| !part.is_empty()) {
            if !first {
                text.push(b',');
            }
            text.extend_from_slice(part);
            first = false;
        }
        text.push(b']');
    }

    /// Appends `part`'s section to `text`: the one kept if it was written from parts with these
    /// `stamps`, else the one `write` gives, then kept.
    fn section(&mut self, text: &mut Vec<u8>, part: Part, stamps: &[u64], write: &dyn Fn() -> Vec<u8>) {
        let slot = &mut self.sections[part as usize];
        let kept = match slot {
            Some(s) if s.stamps == stamps => s,
            _ => {
                self.written += 1;
                slot.insert(Section { stamps: stamps.to_vec(), text: write() })
            }
        };
        text.extend_from_slice(&kept.text);
    }
}

/// The text `write` writes to an empty [`Document::fragment`].
fn fragment(write: impl FnOnce(&mut Document)) -> Vec<u8> {
    let mut d = Document::fragment(Vec::new());
    write(&mut d);
    d.into_fragment()
}

/// The users' section: Camunda's users (by id), then Zitadel's (by creation) merged into them
/// by id, as [`Document`] merges them.
fn users(c: Option<&Camunda>, z: Option<&Zitadel>) -> Vec<u8> {
    let mut d = Document::fragment(Vec::new());
    if let Some(c) = c {
        for (id, user) in c.users.iter() {
            d.camunda_user(id.clone(), user.first.clone(), user.last.clone());
        }
    }
    if let Some(z) = z {
        let mut users: Vec<_> = z.users.iter().collect();
        users.sort_by(|a, b| (a.1.created, a.0).cmp(&(b.1.created, b.0)));
        for (id, u) in users {
            d.zitadel_user(id.clone(), u.org.clone(), u.first.clone(), u.last.clone());
        }
    }
    d.users_fragment()
}

/// Camunda's groups' section, by id.
fn groups(c: &Camunda) -> Vec<u8> {
    fragment(|d| {
        d.section("groups");
        for (id, (name, rank)) in c.groups.iter() {
            d.group(id, name.as_deref(), *rank);
        }
    })
}

/// The memberships `rows` (by user and group) as parts of [`CHUNK_ROWS`] rows or so, each cut at
/// a user's first row; the first part starts at `first` (its users may come after it), the
/// others at their first user. One part, empty, when there are no rows.
fn membership_parts<'a>(
    first: String,
    rows: impl Iterator<Item = (&'a (String, String), &'a u32)>,
) -> Vec<(String, Vec<u8>)> {
    let mut parts = vec![(first, Vec::new())];
    let (mut count, mut last): (usize, Option<&str>) = (0, None);
    for ((user, group), rank) in rows {
        // A new part at a user's first row, once the part has its share.
        if count >= CHUNK_ROWS && last != Some(user.as_str()) {
            parts.push((user.clone(), Vec::new()));
            count = 0;
        }
        let part = &mut parts.last_mut().expect("a part").1;
        if !part.is_empty() {
            part.push(b',');
        }
        write_membership(part, user, group, *rank);
        (count, last) = (count + 1, Some(user.as_str()));
    }
    parts
}

/// Camunda's authorizations' section, by id.
fn authorizations(c: &Camunda) -> Vec<u8> {
    fragment(|d| {
        d.section("authorizations");
        for a in c.authorizations.values() {
            d.authorization(a.kind, a.user.as_deref(), a.group.as_deref(), a.resource_type, &a.resource, a.perms);
        }
    })
}

/// Zitadel's IdP links' section, in creation order (`sequence`, then the key, for equal times).
fn idp_links(z: &Zitadel) -> Vec<u8> {
    fragment(|d| {
        d.section("idpLinks");
        let mut links: Vec<_> = z.links.iter().collect();
        links.sort_by(|a, b| {
            (a.1.created, a.1.sequence, &a.0 .0, &a.0 .1).cmp(&(b.1.created, b.1.sequence, &b.0 .0, &b.0 .1))
        });
        for ((idp, external), link) in links {
            d.idp_link(&link.user, idp, external, &link.name);
        }
    })
}

/// Zitadel's memberships' section: the instance's, then the organisations', then the projects'
/// and the project grants' (`crate::project_members`), each in creation order.
fn members(z: &Zitadel) -> Vec<u8> {
    fragment(|d| {
        d.section("zitadelMembers");
        let mut instance: Vec<_> = z.instance_members.iter().collect();
        instance.sort_by(|a, b| (a.1.created, a.0).cmp(&(b.1.created, b.0)));
        for (user, member) in instance {
            d.member(user, None, None, &member.roles);
        }
        let mut orgs: Vec<_> = z.org_members.iter().collect();
        orgs.sort_by(|a, b| (a.1.created, &a.0 .0, &a.0 .1).cmp(&(b.1.created, &b.0 .0, &b.0 .1)));
        for ((org, user), member) in orgs {
            d.member(user, Some(org), None, &member.roles);
        }
        project_members(d, z);
    })
}

/// The project and project-grant memberships' rows, as the one-shot export writes them.
fn project_members(d: &mut Document, z: &Zitadel) {
    let mut rows: Vec<&ProjectMember> = z.project_members.values().collect();
    rows.sort_by(|a, b| a.order().cmp(&b.order()));
    for m in rows {
        m.write(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::write_task;
    use crate::follow::model::{micros, Authorization, CamundaUser, IdpLink, Member, Task, ZitadelUser};

    /// A state of both sources with a row or more in every section.
    fn model() -> Model {
        let mut c = Camunda::default();
        for (id, first) in [("bob", "Bob"), ("ann", "Ann")] {
            c.users.insert(id.into(), CamundaUser { first: Some(first.into()), last: None });
        }
        c.groups.insert("sales".into(), (Some("Sales".into()), 1));
        c.groups.insert("admins".into(), (None, 0));
        c.memberships.insert(("ann".into(), "sales".into()), 1);
        c.memberships.insert(("bob".into(), "admins".into()), 1);
        let mut element = Vec::new();
        write_task(&mut element, "t1", Some("ann"), None, Some("invoice"), &[]);
        c.tasks.insert("t1".into(), Task { element });
        let a = Authorization {
            kind: 1,
            user: Some("ann".into()),
            group: None,
            resource_type: 7,
            resource: "*".into(),
            perms: 2,
        };
        c.authorizations.insert("a1".into(), a);
        let mut z = Zitadel::default();
        for (id, at) in [("zed", 2), ("ann", 1)] {
            let u = ZitadelUser { created: micros(Some(at)), org: "org1".into(), first: Some("Z".into()), last: None };
            z.users.insert(id.into(), u);
        }
        let link =
            IdpLink { created: micros(Some(5)), sequence: micros(Some(1)), user: "zed".into(), name: "zed@idp".into() };
        z.links.insert(("idp1".into(), "ext1".into()), link);
        z.instance_members.insert("zed".into(), Member { created: micros(Some(3)), roles: vec!["IAM_OWNER".into()] });
        let member = Member { created: micros(None), roles: vec!["ORG_OWNER".into(), "ORG_USER".into()] };
        z.org_members.insert(("org1".into(), "ann".into()), member);
        let grant = ProjectMember {
            grant: true,
            user: "zed".into(),
            context: "grant1".into(),
            project: "p1".into(),
            org: "org2".into(),
            granted: Some("org1".into()),
            created: Some(7),
            roles: vec!["PROJECT_GRANT_OWNER".into()],
        };
        z.project_members.insert(grant.key(), grant);
        (z.sequence, z.timestamp) = (42, Some("2024-06-01T00:00:00Z".into()));
        Model { camunda: Some(c), zitadel: Some(z), authorization_enabled: true }
    }

    /// The document as the follower wrote it before its sections were cached (`Model::document`
    /// until then): one [`Document`] filled in the one-shot export's order.
    fn whole(m: &Model) -> Vec<u8> {
        let mut doc = Document::new();
        if let Some(c) = &m.camunda {
            for (id, user) in c.users.iter() {
                doc.camunda_user(id.clone(), user.first.clone(), user.last.clone());
            }
            doc.section("groups");
            for (id, (name, rank)) in c.groups.iter() {
                doc.group(id, name.as_deref(), *rank);
            }
            doc.section("memberships");
            for ((user, group), rank) in c.memberships.iter() {
                doc.membership(user, group, *rank);
            }
            doc.section("tasks");
            for t in c.tasks.values() {
                doc.task_written(&t.element);
            }
            doc.section("authorizations");
            for a in c.authorizations.values() {
                doc.authorization(a.kind, a.user.as_deref(), a.group.as_deref(), a.resource_type, &a.resource, a.perms);
            }
            doc.authorization_enabled(m.authorization_enabled);
        }
        if let Some(z) = &m.zitadel {
            let mut users: Vec<_> = z.users.iter().collect();
            users.sort_by(|a, b| (a.1.created, a.0).cmp(&(b.1.created, b.0)));
            for (id, u) in users {
                doc.zitadel_user(id.clone(), u.org.clone(), u.first.clone(), u.last.clone());
            }
            doc.section("idpLinks");
            let mut links: Vec<_> = z.links.iter().collect();
            links.sort_by(|a, b| {
                (a.1.created, a.1.sequence, &a.0 .0, &a.0 .1).cmp(&(b.1.created, b.1.sequence, &b.0 .0, &b.0 .1))
            });
            for ((idp, external), link) in links {
                doc.idp_link(&link.user, idp, external, &link.name);
            }
            doc.section("zitadelMembers");
            let mut instance: Vec<_> = z.instance_members.iter().collect();
            instance.sort_by(|a, b| (a.1.created, a.0).cmp(&(b.1.created, b.0)));
            for (user, m) in instance {
                doc.member(user, None, None, &m.roles);
            }
            let mut orgs: Vec<_> = z.org_members.iter().collect();
            orgs.sort_by(|a, b| (a.1.created, &a.0 .0, &a.0 .1).cmp(&(b.1.created, &b.0 .0, &b.0 .1)));
            for ((org, user), m) in orgs {
                doc.member(user, Some(org), None, &m.roles);
            }
            project_members(&mut doc, z);
            doc.state(z.sequence, z.timestamp.clone());
        }
        doc.text()
    }

    #[test]
    fn a_document_cut_in_two_is_the_whole_one_and_loads_the_same() {
        let mut m = model();
        let c = m.camunda.as_mut().expect("camunda");
        for (id, user) in [("t2", "bob"), ("t3", "new-user"), ("t4", "ann")] {
            let mut element = Vec::new();
            let link = crate::document::Link { user: Some(user.into()), group: None, kind: Some("candidate".into()) };
            write_task(&mut element, id, None, Some(user), None, &[link]);
            c.tasks.insert(id.into(), Task { element });
        }
        let mut r = Renderer::default();
        let whole_text = whole(&m);
        let one = crate::document::load(&whole_text).expect("the whole document loads");
        // Cut after each task but the last (whose element reaches the byte after its start),
        // then not at all.
        let at = |id: &str| {
            let element = format!(r#"{{"id":"{id}""#);
            whole_text.windows(element.len()).position(|w| w == element.as_bytes()).expect("the task") + 1
        };
        for cut in [at("t1"), at("t2"), at("t3"), usize::MAX] {
            let (first, second) = r.render_parts(&m, cut);
            let (first, second) = (first.to_vec(), second.to_vec());
            if cut == usize::MAX {
                assert!(second.is_empty(), "no cut: one part");
                assert_eq!(first, whole_text);
                continue;
            }
            assert!(!second.is_empty(), "cut {cut}: two parts");
            assert_eq!(crate::parts::whole(&first, &second), whole_text, "cut {cut}");
            let parts = crate::parts::load_parts(&first, &second).expect("the parts load");
            assert_eq!(parts.to_bytes(), one.to_bytes(), "cut {cut}: the same snapshot");
        }
        // In the middle of the last document's tasks: two parts.
        let (first, second) = r.render_halves(&m);
        assert!(!second.is_empty());
        assert_eq!(crate::parts::whole(first, second), whole_text);
    }

    #[test]
    fn the_memberships_written_again_in_part_are_the_whole_sections() {
        let mut m = model();
        let c = m.camunda.as_mut().expect("camunda");
        for u in 0..3000 {
            for g in ["g1", "g2", "g3"] {
                c.memberships.insert((format!("u{u:04}"), g.into()), u % 7);
            }
        }
        let mut r = Renderer::default();
        assert_eq!(r.render(&m), whole(&m).as_slice());
        assert!(r.memberships.parts.len() > 2, "in parts: {}", r.memberships.parts.len());
        let first_of_second = r.memberships.parts[1].0.clone();
        let changes: [&dyn Fn(&mut Memberships); 5] = [
            // A group's rows gone (every part), a rank changed in one part.
            &|ms| ms.replace_groups(&["g2".to_owned()].into(), Default::default()),
            &|ms| ms.insert(("u1500".into(), "g1".into()), 99),
            // New users before every part's first, between parts, after the last.
            &|ms| ms.insert(("a-first".into(), "g1".into()), 1),
            &|ms| ms.insert(("zz-last".into(), "g3".into()), 1),
            // A part's first user gone, then back.
            &|ms| {
                ms.remove(&(first_of_second.clone(), "g1".into()));
                ms.remove(&(first_of_second.clone(), "g3".into()));
            },
        ];
        r.forget_written(&mut m);
        for (i, change) in changes.iter().enumerate() {
            let ms = &mut m.camunda.as_mut().expect("camunda").memberships;
            change(ms);
            // Not written yet: not forgotten.
            r.forget_written(&mut m);
            assert!(m.camunda.as_ref().expect("camunda").memberships.noted() > 0, "change {i}: noted");
            let written = r.sections_written();
            assert_eq!(String::from_utf8_lossy(r.render(&m)), String::from_utf8_lossy(&whole(&m)), "change {i}");
            assert_eq!(r.sections_written(), written + 1, "change {i}: the memberships written again");
            // What was written is forgotten; what comes next is noted and written (above).
            r.forget_written(&mut m);
            assert_eq!(m.camunda.as_ref().expect("camunda").memberships.noted(), 0, "change {i}: forgotten");
        }
        let unchanged = r.sections_written();
        assert_eq!(r.render(&m), whole(&m).as_slice());
        assert_eq!(r.sections_written(), unchanged, "nothing changed: nothing written");

        // The users of one part join many groups: that part is split, not left to grow.
        let parts = r.memberships.parts.len();
        let c = m.camunda.as_mut().expect("camunda");
        for u in 1500..1600 {
            for g in 0..100 {
                c.memberships.insert((format!("u{u:04}"), format!("h{g:03}")), 1);
            }
        }
        assert_eq!(String::from_utf8_lossy(r.render(&m)), String::from_utf8_lossy(&whole(&m)), "grown");
        assert!(r.memberships.parts.len() >= parts + 2, "split: {} parts, {parts} before", r.memberships.parts.len());
        let largest = r.memberships.parts.iter().map(|(_, text)| text.iter().filter(|&&b| b == b'{').count()).max();
        assert!(largest.is_some_and(|rows| rows < 2 * CHUNK_ROWS), "the largest part: {largest:?} rows");
    }

    /// Every section: those kept whole, and the memberships'.
    const SECTIONS: usize = PARTS + 1;

    #[test]
    fn the_text_is_the_whole_documents_and_changes_with_each_part() {
        let mut m = model();
        let mut r = Renderer::default();
        let first = r.render(&m).to_vec();
        assert_eq!(r.sections_written(), SECTIONS);
        assert_eq!(String::from_utf8_lossy(&first), String::from_utf8_lossy(&whole(&m)));
        crate::document::load(&first).expect("the rendered document loads");
        let again = r.render(&m).to_vec();
        assert_eq!(again, first);
        assert_eq!(r.sections_written(), SECTIONS, "nothing changed: every section copied");

        m.camunda.as_mut().expect("camunda").memberships.remove(&("ann".into(), "sales".into()));
        let changed = r.render(&m).to_vec();
        assert_eq!(r.sections_written(), SECTIONS + 1, "only the memberships written again");
        assert_ne!(changed, first);
        assert_eq!(changed, whole(&m), "what the whole document writes");

        let z = m.zitadel.as_mut().expect("zitadel");
        z.users.get_mut("zed").expect("zed").first = Some("Zed".into());
        let renamed = r.render(&m).to_vec();
        assert_eq!(r.sections_written(), SECTIONS + 2, "only the users written again");
        assert_eq!(renamed, whole(&m));
        assert!(String::from_utf8_lossy(&renamed).contains(r#""firstName":"Zed""#));

        let z = m.zitadel.as_mut().expect("zitadel");
        let mut project = z.project_members.values().next().expect("a grant membership").clone();
        (project.grant, project.context, project.granted, project.created) = (false, "p1".into(), None, Some(1));
        z.project_members.insert(project.key(), project);
        let text = r.render(&m).to_vec();
        assert_eq!(r.sections_written(), SECTIONS + 3, "only the memberships written again");
        assert_eq!(text, whole(&m));
        let members = String::from_utf8_lossy(&text);
        let rows = [
            r#"{"userId":"zed","org":"org2","project":"p1","roles":["PROJECT_GRANT_OWNER"]}"#,
            r#"{"userId":"zed","org":"org2","project":"grant1","roles":["PROJECT_GRANT_OWNER"]}"#,
            r#"{"userId":"zed","org":"org1","project":"grant1","roles":["PROJECT_GRANT_OWNER"]}"#,
        ];
        let at: Vec<usize> = rows.iter().map(|row| members.find(row).expect(row)).collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "a project's rows before a grant's, the granted organisation's after the project's: {members}"
        );
    }
}
