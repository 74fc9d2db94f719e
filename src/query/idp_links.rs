//! `listIdpLinks` — Zitadel `POST /v2/users/{userId}/links/_search` (SEMANTICS.md section 3).

use super::context::{CallContext, GrantSource};
use super::request::ListIdpLinksRequest;
use crate::error::ZitadelError;
use crate::json::writer::u64_digits;
use crate::json::{JsonSink, Kept};
use crate::snapshot::Snapshot;
use identity_links_tables::strings::char_count;
use identity_links_tables::strings::{Sym, NONE};
use identity_links_tables::tables::{range, BySym};

/// protoc-gen-validate's message for a user id outside 1..=200 runes (Z2).
const USER_ID_LENGTH: &str =
    "invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive";

/// A page of a user's IdP links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdpPage {
    /// `totalResult`: the user's links, or 0 when the page is empty (Z6).
    pub total: u64,
    /// The page's link rows, in answer order.
    pub links: Vec<u32>,
}

/// The `details` of a `ListIDPLinksResponse`, with protojson's zero-value omission (Z7):
/// `None` for a field left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdpDetails {
    /// `totalResult`: left out for an empty page (Z6).
    pub total: Option<u64>,
    /// `processedSequence`: left out when 0.
    pub sequence: Option<u64>,
}

impl Snapshot {
    /// The `details` of `page`'s answer, but for the timestamp (always written).
    pub fn idp_details(&self, page: &IdpPage) -> IdpDetails {
        IdpDetails {
            total: (page.total != 0).then_some(page.total),
            sequence: (self.sequence != 0).then_some(self.sequence),
        }
    }

    /// The `userName` of IdP link row `link`: left out when empty (Z8, Z9).
    pub fn idp_user_name(&self, link: usize) -> Option<Sym> {
        self.idp.provided_name.get(link).copied().filter(|&sym| !self.strings.bytes_of(sym).is_empty())
    }

    /// A page of the user's IdP links: newest first unless `asc`, then `offset`, then `limit`
    /// (Z5, Z6).
    ///
    /// # Errors
    /// Code 3 for a user id of the wrong length (Z2) or a limit above the maximum (Z3); with a
    /// caller reading someone else's non-empty page, code 5 without any permission and code 7
    /// without `user.read` on the user's organisation (Z11).
    pub fn idp_page(&self, request: &ListIdpLinksRequest, context: &CallContext) -> Result<IdpPage, ZitadelError> {
        let runes = char_count(&request.user_id);
        if !(1..=200).contains(&runes) {
            return Err(ZitadelError::InvalidArgument { message: USER_ID_LENGTH.into() });
        }
        // Zitadel checks the maximum first, then falls back to the default; 0 disables either.
        let max = self.limits.max_limit;
        if max > 0 && request.limit > max {
            return Err(ZitadelError::LIMIT_EXCEEDED);
        }
        let limit = match request.limit {
            0 => self.limits.default_limit,
            n => n,
        };
        let limit = if limit == 0 { usize::MAX } else { limit as usize };
        let user = self.strings.lookup(&request.user_id).and_then(|sym| BySym::row(&self.by_sym.user, sym));
        let links = user.map_or(&[][..], |user| range(&self.users.idp_at, &self.users.idp, user));
        let total = links.len();
        let skip = usize::try_from(request.offset).unwrap_or(usize::MAX).min(total);
        let take = limit.min(total - skip);
        if take == 0 {
            return Ok(IdpPage::default());
        }
        if let (Some(caller), Some(user)) = (&context.caller, user) {
            if caller.user_id != request.user_id {
                match &caller.source {
                    GrantSource::Zitadel(access) => self.check_zitadel_access(access, user)?,
                    _ => self.check_user_read(&caller.permissions, user)?,
                }
            }
        }
        let page = if request.asc {
            links[skip..skip + take].to_vec()
        } else {
            links[total - skip - take..total - skip].iter().rev().copied().collect()
        };
        Ok(IdpPage { total: total as u64, links: page })
    }

    /// Writes the `ListIDPLinksResponse` with protojson's zero-value omission (Z7, Z8, Z9).
    ///
    /// # Errors
    /// As [`Snapshot::idp_page`].
    pub fn list_idp_links(
        &self,
        request: &ListIdpLinksRequest,
        context: &CallContext,
        out: &mut dyn JsonSink,
    ) -> Result<(), ZitadelError> {
        let page = self.idp_page(request, context)?;
        let details = self.idp_details(&page);
        let mut digits = [0; 20];
        if let Some(total) = details.total {
            out.raw(br#"{"details":{"totalResult":"#);
            out.text(u64_digits(total, &mut digits));
            out.raw(b",");
        } else {
            out.raw(br#"{"details":{"#);
        }
        if let Some(sequence) = details.sequence {
            out.raw(br#""processedSequence":"#);
            out.kept(Kept::Sequence, &|put| put(u64_digits(sequence, &mut [0; 20])));
            out.raw(br#","timestamp":"#);
        } else {
            out.raw(br#""timestamp":"#);
        }
        out.kept(Kept::Timestamp, &|put| put(&self.timestamp.render()));
        if page.links.is_empty() {
            out.raw(b"}}");
            return Ok(());
        }
        out.raw(br#"},"result":["#);
        for (n, &link) in page.links.iter().enumerate() {
            out.comma(n);
            self.write_idp_link(out, link as usize);
        }
        out.raw(b"]}");
        Ok(())
    }

    /// `user.read` on the owning user's organisation, or instance-wide (Z11).
    fn check_user_read(&self, permissions: &[String], user: usize) -> Result<(), ZitadelError> {
        if permissions.is_empty() {
            return Err(ZitadelError::MEMBERSHIP_NOT_FOUND);
        }
        let org = self.users.org.get(user).and_then(|&o| self.opt_str(o));
        let allowed = permissions
            .iter()
            .any(|p| p == "user.read" || (org.is_some_and(|org| p.strip_prefix("user.read@") == Some(org))));
        if allowed {
            Ok(())
        } else {
            Err(ZitadelError::PERMISSION_DENIED)
        }
    }

    /// `{"idpId":..,"userId":..,"userName":..}`, the empty user name omitted (Z8, Z9).
    fn write_idp_link(&self, out: &mut dyn JsonSink, link: usize) {
        let l = &self.idp;
        let sym = |column: &[u32]| column.get(link).copied().unwrap_or(NONE);
        out.raw(br#"{"idpId":"#);
        self.put_str(out, sym(&l.idp_id));
        out.raw(br#","userId":"#);
        self.put_str(out, sym(&l.provided_id));
        if let Some(name) = self.idp_user_name(link) {
            out.raw(br#","userName":"#);
            self.put_str(out, name);
        }
        out.raw(b"}");
    }
}
