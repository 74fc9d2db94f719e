//! `getUserGroups` — Camunda `GET /identity/groups?userId=` (SEMANTICS.md section 2).

use super::context::{CallContext, Resource};
use super::java_set::JavaHashSet;
use super::request::UserGroupsRequest;
use crate::error::CamundaError;
use crate::json::writer::{write_opt_str, write_str};
use crate::snapshot::{range, BySym, Snapshot};

impl Snapshot {
    /// Writes `{"groups":[...],"groupUsers":[...]}`: the user's groups by name (G3), and the
    /// other members of those groups in Camunda's `HashSet` order (G4, G5). With a caller,
    /// groups and users without `READ` are left out silently (A2).
    ///
    /// # Errors
    /// `InvalidRequestException` (400) when no user id is given (G1).
    pub fn user_groups(
        &self,
        request: &UserGroupsRequest,
        context: &CallContext,
        out: &mut Vec<u8>,
    ) -> Result<(), CamundaError> {
        let user_id = request
            .user_id
            .as_deref()
            .ok_or_else(|| CamundaError::InvalidRequest {
                message: "No user id was supplied".into(),
            })?;
        let user = self
            .strings
            .lookup(user_id)
            .and_then(|sym| BySym::row(&self.by_sym.user, sym));
        let caller = context.caller.as_ref();
        let group_grants = caller.map(|c| c.read_grants(Resource::Group));
        let user_grants = caller.map(|c| c.read_grants(Resource::User));
        let u = &self.users;
        let g = &self.groups;

        out.extend_from_slice(br#"{"groups":["#);
        let mut set = JavaHashSet::new();
        let groups = user.map_or(&[][..], |user| range(&u.groups_at, &u.groups, user));
        let mut first = true;
        for &group in groups {
            let group = group as usize;
            let (Some(&id), Some(&name)) = (g.id.get(group), g.name.get(group)) else {
                continue;
            };
            if group_grants
                .as_ref()
                .is_some_and(|grants| !grants.allows(self.str(id)))
            {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(br#"{"id":"#);
            write_str(out, self.str(id));
            out.extend_from_slice(br#","name":"#);
            write_opt_str(out, self.opt_str(name));
            out.push(b'}');
            for &member in range(&g.members_at, &g.members, group) {
                if Some(member as usize) == user {
                    continue;
                }
                let (Some(&member_id), Some(&hash)) =
                    (u.id.get(member as usize), u.java_hash.get(member as usize))
                else {
                    continue;
                };
                if user_grants
                    .as_ref()
                    .is_some_and(|grants| !grants.allows(self.str(member_id)))
                {
                    continue;
                }
                set.insert(member, hash as i32);
            }
        }
        out.extend_from_slice(br#"],"groupUsers":["#);
        for (n, member) in set.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            self.write_user_dto(out, member as usize);
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
