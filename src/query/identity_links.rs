//! `getIdentityLinks` — Camunda `GET /task/{id}/identity-links?type=` (SEMANTICS.md section 1).

use super::context::{CallContext, Resource};
use super::request::IdentityLinksRequest;
use crate::error::CamundaError;
use crate::json::writer::{write_opt_str, write_str};
use crate::snapshot::{BySym, Snapshot, NONE};

impl Snapshot {
    /// Writes the task's identity links: stored links in snapshot order, then the assignee, then
    /// the owner, each kept only if its type equals the filter (C3, C4, C5).
    ///
    /// # Errors
    /// `NullValueException` (400) for an unknown task; `AuthorizationException` (403) when a
    /// caller lacks `READ` on the task (checked after the lookup, A1).
    pub fn identity_links(
        &self,
        request: &IdentityLinksRequest,
        context: &CallContext,
        out: &mut Vec<u8>,
    ) -> Result<(), CamundaError> {
        let task = self
            .strings
            .lookup(&request.task_id)
            .and_then(|sym| BySym::row(&self.by_sym.task, sym))
            .ok_or_else(|| CamundaError::TaskNotFound {
                task_id: request.task_id.clone(),
            })?;
        if let Some(caller) = &context.caller {
            if !caller.can_read(Resource::Task, &request.task_id) {
                return Err(CamundaError::Unauthorized {
                    user_id: caller.user_id.clone(),
                    permission: "READ",
                    resource: Resource::Task.name(),
                    resource_id: request.task_id.clone(),
                });
            }
        }
        let wanted = request.kind.as_deref();
        // The filter as a type symbol; a type no link has matches no stored link.
        let wanted_sym = wanted.map(|t| self.strings.lookup(t).unwrap_or(NONE));
        let t = &self.tasks;
        out.push(b'[');
        let mut first = true;
        let from = t.links_at.get(task).copied().unwrap_or(0) as usize;
        let to = t.links_at.get(task + 1).copied().unwrap_or(0) as usize;
        for (&reference, &kind) in t
            .link_ref
            .get(from..to)
            .unwrap_or(&[])
            .iter()
            .zip(t.link_type.get(from..to).unwrap_or(&[]))
        {
            let type_sym = kind >> 1;
            if wanted_sym.is_some_and(|w| w != type_sym) {
                continue;
            }
            let is_group = kind & 1 == 1;
            let reference = self.str(reference);
            write_link(
                out,
                &mut first,
                (!is_group).then_some(reference),
                is_group.then_some(reference),
                self.str(type_sym),
            );
        }
        for (person, kind) in [
            (t.assignee.get(task), "assignee"),
            (t.owner.get(task), "owner"),
        ] {
            let Some(person) = person.and_then(|&p| self.opt_str(p)) else {
                continue;
            };
            if wanted.is_none_or(|w| w == kind) {
                write_link(out, &mut first, Some(person), None, kind);
            }
        }
        out.push(b']');
        Ok(())
    }
}

/// `{"userId":..,"groupId":..,"type":..}`, Jackson's key order with nulls written.
fn write_link(
    out: &mut Vec<u8>,
    first: &mut bool,
    user: Option<&str>,
    group: Option<&str>,
    kind: &str,
) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.extend_from_slice(br#"{"userId":"#);
    write_opt_str(out, user);
    out.extend_from_slice(br#","groupId":"#);
    write_opt_str(out, group);
    out.extend_from_slice(br#","type":"#);
    write_str(out, kind);
    out.push(b'}');
}
