//! `Snapshot.toJson()`: the snapshot written back as canonical JSON.
//!
//! Canonical means: every field written (nulls included), `sequence` as a decimal string,
//! `timestamp` in UTC as Zitadel renders it, rows in snapshot order, and memberships grouped by
//! group (snapshot order) with members in the group's order (ascending by id, or by the source's
//! order). The source's order, where the snapshot carries it, is written as each group's and
//! each membership's `rank` (and nowhere else: a snapshot without it is written as before).
//! Loading the text gives a snapshot that answers every query identically.

use super::Snapshot;
use crate::json::writer::{comma, write_opt_str};
use identity_links_tables::tables::{range, AUTH_GROUP_BIT};
use identity_links_text::escape::write_str;

impl Snapshot {
    /// The canonical JSON text of the snapshot.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(self.strings.text.len() * 2 + 256);
        out.extend_from_slice(br#"{"version":1,"sequence":""#);
        out.extend_from_slice(self.sequence.to_string().as_bytes());
        out.extend_from_slice(br#"","timestamp":"#);
        write_str(&mut out, &self.timestamp.render());
        self.write_users(&mut out);
        self.write_groups(&mut out);
        self.write_tasks(&mut out);
        self.write_idp_links(&mut out);
        self.write_authorizations(&mut out);
        self.write_members(&mut out);
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }

    fn write_users(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#","users":["#);
        let u = &self.users;
        for i in 0..u.id.len() {
            comma(out, i);
            out.extend_from_slice(br#"{"id":"#);
            write_str(out, self.str(u.id[i]));
            out.extend_from_slice(br#","firstName":"#);
            write_opt_str(out, self.opt_str(u.first[i]));
            out.extend_from_slice(br#","lastName":"#);
            write_opt_str(out, self.opt_str(u.last[i]));
            if let Some(org) = self.opt_str(u.org[i]) {
                out.extend_from_slice(br#","org":"#);
                write_str(out, org);
            }
            out.push(b'}');
        }
        out.push(b']');
    }

    fn write_groups(&self, out: &mut Vec<u8>) {
        let g = &self.groups;
        out.extend_from_slice(br#","groups":["#);
        for i in 0..g.id.len() {
            comma(out, i);
            out.extend_from_slice(br#"{"id":"#);
            write_str(out, self.str(g.id[i]));
            out.extend_from_slice(br#","name":"#);
            write_opt_str(out, self.opt_str(g.name[i]));
            if let Some(rank) = g.rank.get(i) {
                out.extend_from_slice(br#","rank":"#);
                out.extend_from_slice(rank.to_string().as_bytes());
            }
            out.push(b'}');
        }
        out.extend_from_slice(br#"],"memberships":["#);
        let mut n = 0;
        for i in 0..g.id.len() {
            let ranks = range(&g.members_at, &g.member_rank, i);
            for (j, &user) in range(&g.members_at, &g.members, i).iter().enumerate() {
                comma(out, n);
                n += 1;
                out.extend_from_slice(br#"{"userId":"#);
                write_str(out, self.str(self.users.id.get(user as usize).copied().unwrap_or(u32::MAX)));
                out.extend_from_slice(br#","groupId":"#);
                write_str(out, self.str(g.id[i]));
                if let Some(rank) = ranks.get(j) {
                    out.extend_from_slice(br#","rank":"#);
                    out.extend_from_slice(rank.to_string().as_bytes());
                }
                out.push(b'}');
            }
        }
        out.push(b']');
    }

    fn write_tasks(&self, out: &mut Vec<u8>) {
        let t = &self.tasks;
        out.extend_from_slice(br#","tasks":["#);
        for i in 0..t.id.len() {
            comma(out, i);
            out.extend_from_slice(br#"{"id":"#);
            write_str(out, self.str(t.id[i]));
            out.extend_from_slice(br#","assignee":"#);
            write_opt_str(out, self.opt_str(t.assignee[i]));
            out.extend_from_slice(br#","owner":"#);
            write_opt_str(out, self.opt_str(t.owner[i]));
            if let Some(key) = t.definition.get(i).and_then(|&d| self.opt_str(d)) {
                out.extend_from_slice(br#","processDefinitionKey":"#);
                write_str(out, key);
            }
            out.extend_from_slice(br#","identityLinks":["#);
            let from = t.links_at.get(i).copied().unwrap_or(0) as usize;
            let to = t.links_at.get(i + 1).copied().unwrap_or(0) as usize;
            for (n, link) in (from..to).enumerate() {
                comma(out, n);
                let (reference, kind) = (t.link_ref[link], t.link_type[link]);
                let group = kind & 1 == 1;
                out.extend_from_slice(br#"{"userId":"#);
                write_opt_str(out, (!group).then(|| self.str(reference)));
                out.extend_from_slice(br#","groupId":"#);
                write_opt_str(out, group.then(|| self.str(reference)));
                out.extend_from_slice(br#","type":"#);
                write_str(out, self.str(kind >> 1));
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        }
        out.push(b']');
    }

    /// `authorizations` (in key order) and `authorizationEnabled`, each only where the snapshot
    /// has them.
    fn write_authorizations(&self, out: &mut Vec<u8>) {
        let a = &self.authz;
        if !a.owner.is_empty() {
            out.extend_from_slice(br#","authorizations":["#);
            for i in 0..a.owner.len() {
                comma(out, i);
                let kind = a.kind[i];
                out.extend_from_slice(format!(r#"{{"type":{},"#, kind & 3).as_bytes());
                out.extend_from_slice(if kind & AUTH_GROUP_BIT != 0 { br#""groupId":"# } else { br#""userId":"# });
                write_str(out, self.str(a.owner[i]));
                out.extend_from_slice(format!(r#","resourceType":{},"resourceId":"#, kind >> 3).as_bytes());
                write_str(out, self.str(a.resource[i]));
                out.extend_from_slice(format!(r#","permissions":{}}}"#, a.perms[i] as i32).as_bytes());
            }
            out.push(b']');
        }
        if a.is_enabled() {
            out.extend_from_slice(br#","authorizationEnabled":true"#);
        }
    }

    /// `zitadelMembers`, in snapshot order, where the snapshot has them.
    fn write_members(&self, out: &mut Vec<u8>) {
        let m = &self.members;
        if m.user.is_empty() {
            return;
        }
        out.extend_from_slice(br#","zitadelMembers":["#);
        for i in 0..m.user.len() {
            comma(out, i);
            out.extend_from_slice(br#"{"userId":"#);
            write_str(out, self.str(m.user[i]));
            for (key, sym) in [(&br#","org":"#[..], m.org[i]), (&br#","project":"#[..], m.project[i])] {
                if let Some(text) = self.opt_str(sym) {
                    out.extend_from_slice(key);
                    write_str(out, text);
                }
            }
            out.extend_from_slice(br#","roles":["#);
            for (j, &role) in range(&m.roles_at, &m.roles, i).iter().enumerate() {
                comma(out, j);
                write_str(out, self.str(role));
            }
            out.extend_from_slice(b"]}");
        }
        out.push(b']');
    }

    fn write_idp_links(&self, out: &mut Vec<u8>) {
        let l = &self.idp;
        out.extend_from_slice(br#","idpLinks":["#);
        for i in 0..l.user.len() {
            comma(out, i);
            out.extend_from_slice(br#"{"userId":"#);
            write_str(out, self.str(self.users.id.get(l.user[i] as usize).copied().unwrap_or(u32::MAX)));
            out.extend_from_slice(br#","idpId":"#);
            write_str(out, self.str(l.idp_id[i]));
            out.extend_from_slice(br#","providedUserId":"#);
            write_str(out, self.str(l.provided_id[i]));
            out.extend_from_slice(br#","providedUserName":"#);
            write_str(out, self.str(l.provided_name[i]));
            out.push(b'}');
        }
        out.push(b']');
    }
}
