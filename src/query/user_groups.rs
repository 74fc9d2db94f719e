//! `getUserGroups` — Camunda `GET /identity/groups?userId=` (SEMANTICS.md section 2).

use super::context::{CallContext, Resource};
use super::java_set::JavaHashSet;
use super::request::UserGroupsRequest;
use crate::error::CamundaError;
use crate::json::{JsonSink, Kept};
use crate::snapshot::Snapshot;
use identity_links_tables::strings::{Sym, NONE};
use identity_links_tables::tables::{range, BySym};

/// The answer as rows: the user's groups in G3 order, the other members in `HashSet` order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupInfoAnswer {
    /// Group rows.
    pub groups: Vec<u32>,
    /// User rows.
    pub users: Vec<u32>,
}

/// A user's `displayName` (G4): one of the user's own strings, or the first and last names
/// joined by a space as Java concatenates them (a null first name prints as `"null"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayName<'a> {
    /// The first name (no last name), or the id (no names at all).
    Own(Sym),
    /// `"{first} {last}"`.
    Joined(&'a str, &'a str),
}

impl Snapshot {
    /// The `displayName` of user row `user` (G4).
    pub fn display_name(&self, user: usize) -> DisplayName<'_> {
        let u = &self.users;
        let sym = |column: &[u32]| column.get(user).copied().unwrap_or(NONE);
        match (sym(&u.first), sym(&u.last)) {
            (NONE, NONE) => DisplayName::Own(sym(&u.id)),
            (first, NONE) => DisplayName::Own(first),
            (first, last) => DisplayName::Joined(self.opt_str(first).unwrap_or("null"), self.str(last)),
        }
    }

    /// The user's groups by name (G3), and the other members of those groups in Camunda's
    /// `HashSet` order (G4, G5). With a caller, groups and users without `READ` are left out
    /// silently (A2).
    ///
    /// # Errors
    /// `InvalidRequestException` (400) when no user id is given (G1).
    pub fn user_groups_answer(
        &self,
        request: &UserGroupsRequest,
        context: &CallContext,
    ) -> Result<GroupInfoAnswer, CamundaError> {
        let user_id = request
            .user_id
            .as_deref()
            .ok_or_else(|| CamundaError::InvalidRequest { message: "No user id was supplied".into() })?;
        let user = self.strings.lookup(user_id).and_then(|sym| BySym::row(&self.by_sym.user, sym));
        let caller = context.caller.as_ref();
        let group_grants = self.read_check(caller, Resource::Group);
        let user_grants = self.read_check(caller, Resource::User);
        let (u, g) = (&self.users, &self.groups);
        let mut answer = GroupInfoAnswer::default();
        let mut set = JavaHashSet::new();
        for &group in user.map_or(&[][..], |user| range(&u.groups_at, &u.groups, user)) {
            let Some(&id) = g.id.get(group as usize) else { continue };
            if !self.allows(&group_grants, self.str(id)) {
                continue;
            }
            answer.groups.push(group);
            for &member in range(&g.members_at, &g.members, group as usize) {
                if Some(member as usize) == user {
                    continue;
                }
                let (Some(&member_id), Some(&hash)) = (u.id.get(member as usize), u.java_hash.get(member as usize))
                else {
                    continue;
                };
                if !self.allows(&user_grants, self.str(member_id)) {
                    continue;
                }
                set.insert(member, hash as i32);
            }
        }
        answer.users = set.iter().collect();
        Ok(answer)
    }

    /// Writes `{"groups":[...],"groupUsers":[...]}` (G6).
    ///
    /// # Errors
    /// As [`Snapshot::user_groups_answer`].
    pub fn user_groups(
        &self,
        request: &UserGroupsRequest,
        context: &CallContext,
        out: &mut dyn JsonSink,
    ) -> Result<(), CamundaError> {
        let answer = self.user_groups_answer(request, context)?;
        let sym = |column: &[u32], row: u32| column.get(row as usize).copied().unwrap_or(NONE);
        out.raw(br#"{"groups":["#);
        for (i, &group) in answer.groups.iter().enumerate() {
            out.comma(i);
            out.raw(br#"{"id":"#);
            self.put_str(out, sym(&self.groups.id, group));
            out.raw(br#","name":"#);
            self.put_opt(out, sym(&self.groups.name, group));
            out.raw(b"}");
        }
        out.raw(br#"],"groupUsers":["#);
        for (i, &user) in answer.users.iter().enumerate() {
            out.comma(i);
            self.write_user_dto(out, user);
        }
        out.raw(b"]}");
        Ok(())
    }

    /// `{"firstName":..,"lastName":..,"displayName":..,"id":..}` (UserDto's field order, G4).
    fn write_user_dto(&self, out: &mut dyn JsonSink, user: u32) {
        let u = &self.users;
        let sym = |column: &[u32]| column.get(user as usize).copied().unwrap_or(NONE);
        out.raw(br#"{"firstName":"#);
        self.put_opt(out, sym(&u.first));
        out.raw(br#","lastName":"#);
        self.put_opt(out, sym(&u.last));
        out.raw(br#","displayName":"#);
        match self.display_name(user as usize) {
            DisplayName::Own(sym) => self.put_str(out, sym),
            DisplayName::Joined(first, last) => out.kept(Kept::DisplayName(user), &|put| {
                put(first);
                put(" ");
                put(last);
            }),
        }
        out.raw(br#","id":"#);
        self.put_str(out, sym(&u.id));
        out.raw(b"}");
    }
}
