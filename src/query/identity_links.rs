//! `getIdentityLinks` — Camunda `GET /task/{id}/identity-links?type=` (SEMANTICS.md section 1).

use super::context::{CallContext, Resource};
use super::request::IdentityLinksRequest;
use crate::error::CamundaError;
use crate::json::JsonSink;
use crate::snapshot::Snapshot;
use identity_links_tables::strings::{Sym, NONE};
use identity_links_tables::tables::BySym;

/// The type of an answered link: a stored type, or one of the two Camunda synthesizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// A stored link's `type` symbol.
    Stored(Sym),
    /// The task's assignee.
    Assignee,
    /// The task's owner.
    Owner,
}

/// One link of the answer: `user` or `group` is [`NONE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnswerLink {
    /// `userId` symbol, or [`NONE`].
    pub user: Sym,
    /// `groupId` symbol, or [`NONE`].
    pub group: Sym,
    /// `type`.
    pub kind: LinkKind,
}

impl Snapshot {
    /// The task's identity links: stored links in snapshot order, then the assignee, then the
    /// owner, each kept only if its type equals the filter (C3, C4).
    ///
    /// # Errors
    /// `NullValueException` (400) for an unknown task; `AuthorizationException` (403) when a
    /// caller lacks `READ` on the task (checked after the lookup, A1).
    pub fn identity_links_answer(
        &self,
        request: &IdentityLinksRequest,
        context: &CallContext,
    ) -> Result<Vec<AnswerLink>, CamundaError> {
        let mut links = Vec::new();
        self.identity_links_each(request, context, &mut |link| links.push(link))?;
        Ok(links)
    }

    /// [`Snapshot::identity_links_answer`] without collecting: `f` is called with each link of
    /// the answer, in order.
    ///
    /// # Errors
    /// As [`Snapshot::identity_links_answer`]; `f` is not called then.
    pub fn identity_links_each(
        &self,
        request: &IdentityLinksRequest,
        context: &CallContext,
        f: &mut dyn FnMut(AnswerLink),
    ) -> Result<(), CamundaError> {
        let task = self
            .strings
            .lookup(&request.task_id)
            .and_then(|sym| BySym::row(&self.by_sym.task, sym))
            .ok_or_else(|| CamundaError::TaskNotFound { task_id: request.task_id.to_string() })?;
        if let Some(caller) = &context.caller {
            if !self.caller_reads_task(caller, task, &request.task_id) {
                return Err(CamundaError::Unauthorized {
                    user_id: caller.user_id.clone(),
                    permission: "READ",
                    resource: Resource::Task.name(),
                    resource_id: request.task_id.to_string(),
                });
            }
        }
        let wanted = request.kind.as_deref();
        // The filter as a type symbol; a type no link has matches no stored link.
        let wanted_sym = wanted.map(|t| self.strings.lookup(t).unwrap_or(NONE));
        let t = &self.tasks;
        let from = t.links_at.get(task).copied().unwrap_or(0) as usize;
        let to = t.links_at.get(task + 1).copied().unwrap_or(0) as usize;
        let refs = t.link_ref.get(from..to).unwrap_or(&[]);
        let kinds = t.link_type.get(from..to).unwrap_or(&[]);
        for (&reference, &kind) in refs.iter().zip(kinds) {
            let type_sym = kind >> 1;
            if wanted_sym.is_some_and(|w| w != type_sym) {
                continue;
            }
            let (user, group) = if kind & 1 == 1 { (NONE, reference) } else { (reference, NONE) };
            f(AnswerLink { user, group, kind: LinkKind::Stored(type_sym) });
        }
        let people =
            [(t.assignee.get(task), LinkKind::Assignee, "assignee"), (t.owner.get(task), LinkKind::Owner, "owner")];
        for (person, kind, name) in people {
            match person {
                Some(&user) if user != NONE && wanted.is_none_or(|w| w == name) => {
                    f(AnswerLink { user, group: NONE, kind });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes the answer as Camunda's JSON body (C5).
    ///
    /// # Errors
    /// As [`Snapshot::identity_links_answer`].
    pub fn identity_links(
        &self,
        request: &IdentityLinksRequest,
        context: &CallContext,
        out: &mut dyn JsonSink,
    ) -> Result<(), CamundaError> {
        out.raw(b"[");
        let mut i = 0;
        let written = self.identity_links_each(request, context, &mut |link| {
            out.comma(i);
            i += 1;
            // `{"userId":..,"groupId":..,"type":..}`: Jackson's key order with nulls written.
            match (link.user, link.group) {
                (user, NONE) => {
                    out.raw(br#"{"userId":"#);
                    self.put_opt(out, user);
                    out.raw(br#","groupId":null,"type":"#);
                }
                (NONE, group) => {
                    out.raw(br#"{"userId":null,"groupId":"#);
                    self.put_opt(out, group);
                    out.raw(br#","type":"#);
                }
                (user, group) => {
                    out.raw(br#"{"userId":"#);
                    self.put_opt(out, user);
                    out.raw(br#","groupId":"#);
                    self.put_opt(out, group);
                    out.raw(br#","type":"#);
                }
            }
            match link.kind {
                LinkKind::Stored(sym) => self.put_str(out, sym),
                LinkKind::Assignee => out.raw(br#""assignee"}"#),
                LinkKind::Owner => out.raw(br#""owner"}"#),
            }
            if let LinkKind::Stored(_) = link.kind {
                out.raw(b"}");
            }
        });
        out.raw(b"]");
        written
    }

    /// The text of a link's type.
    pub fn link_kind_name(&self, kind: LinkKind) -> &str {
        match kind {
            LinkKind::Stored(sym) => self.str(sym),
            LinkKind::Assignee => "assignee",
            LinkKind::Owner => "owner",
        }
    }
}
