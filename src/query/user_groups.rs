//! `getUserGroups` — Camunda `GET /identity/groups?userId=` (SEMANTICS.md section 2).

use super::context::{CallContext, Resource};
use super::java_set::JavaHashSet;
use super::request::UserGroupsRequest;
use crate::error::CamundaError;
use crate::json::writer::{comma, write_opt_str, write_str};
use crate::snapshot::{range, BySym, Snapshot};

/// The answer as rows: the user's groups in G3 order, the other members in `HashSet` order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupInfoAnswer {
    /// Group rows.
    pub groups: Vec<u32>,
    /// User rows.
    pub users: Vec<u32>,
}

impl Snapshot {
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
        let group_grants = caller.map(|c| c.read_grants(Resource::Group));
        let user_grants = caller.map(|c| c.read_grants(Resource::User));
        let (u, g) = (&self.users, &self.groups);
        let mut answer = GroupInfoAnswer::default();
        let mut set = JavaHashSet::new();
        for &group in user.map_or(&[][..], |user| range(&u.groups_at, &u.groups, user)) {
            let Some(&id) = g.id.get(group as usize) else { continue };
            if group_grants.as_ref().is_some_and(|grants| !grants.allows(self.str(id))) {
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
                if user_grants.as_ref().is_some_and(|grants| !grants.allows(self.str(member_id))) {
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
        out: &mut Vec<u8>,
    ) -> Result<(), CamundaError> {
        let answer = self.user_groups_answer(request, context)?;
        out.extend_from_slice(br#"{"groups":["#);
        for (i, &group) in answer.groups.iter().enumerate() {
            comma(out, i);
            let get = |column: &[u32]| column.get(group as usize).and_then(|&s| self.opt_str(s));
            out.extend_from_slice(br#"{"id":"#);
            write_str(out, get(&self.groups.id).unwrap_or(""));
            out.extend_from_slice(br#","name":"#);
            write_opt_str(out, get(&self.groups.name));
            out.push(b'}');
        }
        out.extend_from_slice(br#"],"groupUsers":["#);
        for (i, &user) in answer.users.iter().enumerate() {
            comma(out, i);
            self.write_user_dto(out, user as usize);
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }

    /// `{"firstName":..,"lastName":..,"displayName":..,"id":..}` (UserDto's field order, G4).
    fn write_user_dto(&self, out: &mut Vec<u8>, user: usize) {
        let u = &self.users;
        let get = |column: &[u32]| column.get(user).and_then(|&s| self.opt_str(s));
        let (first, last, id) = (get(&u.first), get(&u.last), get(&u.id).unwrap_or(""));
        out.extend_from_slice(br#"{"firstName":"#);
        write_opt_str(out, first);
        out.extend_from_slice(br#","lastName":"#);
        write_opt_str(out, last);
        out.extend_from_slice(br#","displayName":"#);
        match (first, last) {
            (None, None) => write_str(out, id),
            // Java string concatenation: a null firstName prints as "null".
            (first, Some(last)) => write_str(out, &format!("{} {last}", first.unwrap_or("null"))),
            (Some(first), None) => write_str(out, first),
        }
        out.extend_from_slice(br#","id":"#);
        write_str(out, id);
        out.push(b'}');
    }
}
