//! The caller context: who asks, with which Zitadel permissions and Camunda grants.
//!
//! Without a context a query runs with full rights (a trusted server-side use). A context is a
//! claim about a caller, so it fails closed: one without a caller (`{}`, `{ caller: undefined }`,
//! `{ caller: null }`, or `null` itself — what `{ caller: await verify(request) }` gives when the
//! verification finds nobody) is a usage error, never full rights. It is identity-links' own
//! input, not a peer's, so it is read strictly: an unknown field such as `permission` (for
//! `permissions`) is refused rather than silently granting or denying.

use crate::json::Value;
use identity_links_tables::error::comma_list;

/// `context` of every query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallContext {
    /// The caller, or `None` for a trusted call.
    pub caller: Option<Caller>,
}

/// `context.caller`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The caller's user id.
    pub user_id: String,
    /// Zitadel permissions: `user.read` (instance) or `user.read@<org>`.
    pub permissions: Vec<String>,
    /// Camunda grants, already resolved for this caller.
    pub authorizations: Vec<Grant>,
    /// Where the caller's rights come from: the two lists above ([`GrantSource::Listed`], what a
    /// context gives), or the snapshot's authorizations or memberships (what the HTTP layer
    /// resolves with [`crate::Snapshot::camunda_caller`] / [`crate::Snapshot::zitadel_caller`]).
    pub source: GrantSource,
}

/// Where a [`Caller`]'s rights come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum GrantSource {
    /// `permissions` and `authorizations` as given (a context's caller).
    #[default]
    Listed,
    /// Camunda's authorizations in the snapshot, with Camunda's precedence (revokes included).
    Camunda(CamundaAccess),
    /// Zitadel's memberships in the snapshot, mapped to permissions by role.
    Zitadel(ZitadelAccess),
}

/// A Camunda caller as the snapshot knows it: what `Snapshot::camunda_caller` resolved once, so
/// that each check is a few binary searches in the snapshot's authorization rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CamundaAccess {
    /// `authorizationEnabled`: when false every check passes (Camunda's default).
    pub enabled: bool,
    /// The symbol of the caller's user id in the snapshot's strings, if it has one.
    pub user: Option<u32>,
    /// The symbols of the caller's groups (its memberships).
    pub groups: Vec<u32>,
    /// Whether revokes are checked: Camunda's `authorizationCheckRevokes` "auto" mode, true when
    /// a revoke row names the user or one of its groups.
    pub revokes: bool,
}

/// A Zitadel caller's memberships that matter to `user.read`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZitadelAccess {
    /// Each membership: its organisation (`None`: the instance), its project (`None`: not
    /// project-scoped) and whether one of its roles maps to `user.read`.
    pub memberships: Vec<ZitadelMembership>,
}

/// One of [`ZitadelAccess::memberships`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZitadelMembership {
    /// The organisation, or `None` for an instance membership.
    pub org: Option<String>,
    /// The project of a project or project-grant membership (its permissions are scoped to it).
    pub project: Option<String>,
    /// Whether a role of the membership maps to `user.read`.
    pub user_read: bool,
}

/// A Camunda resource type that grants apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `Task`
    Task,
    /// `Group`
    Group,
    /// `User`
    User,
}

impl Resource {
    /// The name as Camunda writes it.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Task => "Task",
            Resource::Group => "Group",
            Resource::User => "User",
        }
    }
}

/// One row of Camunda's `ACT_RU_AUTHORIZATION` that applies to the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The resource type.
    pub resource: Resource,
    /// The resource id, or `*` for every id.
    pub resource_id: String,
    /// Granted permissions (`READ`, ..., or `ALL`).
    pub permissions: Vec<String>,
}

/// A context that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextError {
    /// A malformed value, with its path: the query's peer reports it as a malformed request.
    Malformed(String),
    /// A context without a caller: a usage error (never full rights).
    NoCaller(String),
}

impl ContextError {
    /// The message.
    pub fn message(&self) -> &str {
        match self {
            ContextError::Malformed(m) | ContextError::NoCaller(m) => m,
        }
    }
}

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ContextError {}

impl CallContext {
    /// Reads a context value: `None` (no context argument) is a trusted call; anything else must
    /// name a caller ([`ContextError::NoCaller`] otherwise: `null`, `{}`, a `null` caller).
    pub fn from_value(value: Option<&Value>) -> Result<CallContext, ContextError> {
        let Some(value) = value else {
            return Ok(CallContext::default());
        };
        let no_caller = |found: &str| {
            ContextError::NoCaller(format!(
                "context: {found}, so nobody is calling; a context must name its caller ({{ caller: {{ userId }} }}), \
                 and a trusted call passes no context at all"
            ))
        };
        if matches!(value, Value::Null) {
            return Err(no_caller("null"));
        }
        let members = object(value, "context")?;
        only(members, "context", &["caller"])?;
        match value.get("caller") {
            None => Err(no_caller("no caller")),
            Some(Value::Null) => Err(no_caller("caller is null")),
            Some(caller) => Ok(CallContext { caller: Some(Caller::from_value(caller)?) }),
        }
    }
}

impl Caller {
    fn from_value(value: &Value) -> Result<Caller, ContextError> {
        let members = object(value, "context.caller")?;
        only(members, "context.caller", &["userId", "permissions", "authorizations"])?;
        let user_id = match value.get("userId") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(wrong("context.caller.userId", "a string", other)),
            None => return Err(ContextError::Malformed("context.caller.userId: required field is missing".into())),
        };
        let permissions = strings(value.get_present("permissions"), "context.caller.permissions")?;
        let authorizations = match value.get_present("authorizations") {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                // A loop, not a collect into Result: each such collect adds its own adapter's
                // code to the module.
                let mut grants = Vec::new();
                for (i, g) in items.iter().enumerate() {
                    grants.push(Grant::from_value(g, &format!("context.caller.authorizations[{i}]"))?);
                }
                grants
            }
            Some(other) => return Err(wrong("context.caller.authorizations", "an array", other)),
        };
        Ok(Caller { user_id, permissions, authorizations, source: GrantSource::Listed })
    }

    /// Whether the Camunda grants allow `READ` on `resource` `id` (an exact id or `*`).
    pub fn can_read(&self, resource: Resource, id: &str) -> bool {
        self.authorizations
            .iter()
            .any(|g| g.resource == resource && g.grants_read() && (g.resource_id == "*" || g.resource_id == id))
    }

    /// The caller's `READ` grants on one resource type, prepared for many checks.
    pub fn read_grants(&self, resource: Resource) -> ReadGrants<'_> {
        let relevant = self.authorizations.iter().filter(|g| g.resource == resource && g.grants_read());
        let ids: Vec<&str> = relevant.map(|g| g.resource_id.as_str()).collect();
        ReadGrants { any: ids.contains(&"*"), ids }
    }
}

impl Grant {
    fn from_value(value: &Value, path: &str) -> Result<Grant, ContextError> {
        let members = object(value, path)?;
        only(members, path, &["resource", "resourceId", "permissions"])?;
        let resource = match value.get("resource") {
            Some(Value::String(s)) if s == "Task" => Resource::Task,
            Some(Value::String(s)) if s == "Group" => Resource::Group,
            Some(Value::String(s)) if s == "User" => Resource::User,
            Some(Value::String(s)) => {
                return Err(ContextError::Malformed(format!(
                    "{path}.resource: unknown resource {} (Task, Group or User)",
                    identity_links_text::escape::quote(s)
                )))
            }
            Some(other) => return Err(wrong(&format!("{path}.resource"), "a string", other)),
            None => return Err(ContextError::Malformed(format!("{path}.resource: required field is missing"))),
        };
        let resource_id = match value.get("resourceId") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(wrong(&format!("{path}.resourceId"), "a string", other)),
            None => return Err(ContextError::Malformed(format!("{path}.resourceId: required field is missing"))),
        };
        let permissions = strings(value.get_present("permissions"), &format!("{path}.permissions"))?;
        Ok(Grant { resource, resource_id, permissions })
    }

    fn grants_read(&self) -> bool {
        self.permissions.iter().any(|p| p == "READ" || p == "ALL")
    }
}

/// `READ` grants on one resource type: all ids, or a list (a caller's grants are few: a scan).
pub struct ReadGrants<'a> {
    any: bool,
    ids: Vec<&'a str>,
}

impl ReadGrants<'_> {
    /// Whether `id` may be read.
    pub fn allows(&self, id: &str) -> bool {
        self.any || self.ids.contains(&id)
    }
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v [(String, Value)], ContextError> {
    match value {
        Value::Object(members) => Ok(members),
        other => Err(wrong(path, "an object", other)),
    }
}

fn only(members: &[(String, Value)], path: &str, allowed: &[&str]) -> Result<(), ContextError> {
    match members.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => {
            Err(ContextError::Malformed(format!("{path}.{k}: unknown field (allowed here: {})", comma_list(allowed))))
        }
        None => Ok(()),
    }
}

fn strings(value: Option<&Value>, path: &str) -> Result<Vec<String>, ContextError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut strings = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match v {
                    Value::String(s) => strings.push(s.clone()),
                    other => return Err(wrong(&format!("{path}[{i}]"), "a string", other)),
                }
            }
            Ok(strings)
        }
        Some(other) => Err(wrong(path, "an array of strings", other)),
    }
}

fn wrong(path: &str, expected: &str, found: &Value) -> ContextError {
    ContextError::Malformed(format!("{path}: expected {expected}, found {}", found.described()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: Option<&str>) -> Result<CallContext, ContextError> {
        let value = json.map(|j| Value::parse(j.as_bytes()).expect("test JSON"));
        CallContext::from_value(value.as_ref())
    }

    #[test]
    fn no_context_is_trusted_and_a_context_without_a_caller_is_refused() {
        assert_eq!(read(None), Ok(CallContext::default()));
        for nobody in ["null", "{}", r#"{"caller":null}"#] {
            assert!(matches!(read(Some(nobody)), Err(ContextError::NoCaller(_))), "{nobody}");
        }
        let caller = read(Some(r#"{"caller":{"userId":"u"}}"#)).expect("a caller");
        assert_eq!(caller.caller.map(|c| c.user_id).as_deref(), Some("u"));
        assert!(matches!(read(Some(r#"{"caller":{}}"#)), Err(ContextError::Malformed(_))));
    }
}
