//! `listIdpLinks` — Zitadel `POST /v2/users/{userId}/links/_search` (SEMANTICS.md section 3).

use super::context::CallContext;
use super::request::ListIdpLinksRequest;
use crate::error::ZitadelError;
use crate::json::writer::{comma, write_str, write_u64_str};
use crate::snapshot::strings::char_count;
use crate::snapshot::{range, BySym, Snapshot};

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

impl Snapshot {
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
                self.check_user_read(&caller.permissions, user)?;
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
        out: &mut Vec<u8>,
    ) -> Result<(), ZitadelError> {
        let page = self.idp_page(request, context)?;
        out.extend_from_slice(br#"{"details":{"#);
        if page.total != 0 {
            out.extend_from_slice(br#""totalResult":"#);
            write_u64_str(out, page.total);
            out.push(b',');
        }
        if self.sequence != 0 {
            out.extend_from_slice(br#""processedSequence":"#);
            write_u64_str(out, self.sequence);
            out.push(b',');
        }
        out.extend_from_slice(br#""timestamp":"#);
        write_str(out, &self.timestamp.render());
        out.push(b'}');
        if !page.links.is_empty() {
            out.extend_from_slice(br#","result":["#);
            for (n, &link) in page.links.iter().enumerate() {
                comma(out, n);
                self.write_idp_link(out, link as usize);
            }
            out.push(b']');
        }
        out.push(b'}');
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
    fn write_idp_link(&self, out: &mut Vec<u8>, link: usize) {
        let l = &self.idp;
        let get = |column: &[u32]| column.get(link).map_or("", |&s| self.str(s));
        out.extend_from_slice(br#"{"idpId":"#);
        write_str(out, get(&l.idp_id));
        out.extend_from_slice(br#","userId":"#);
        write_str(out, get(&l.provided_id));
        let name = get(&l.provided_name);
        if !name.is_empty() {
            out.extend_from_slice(br#","userName":"#);
            write_str(out, name);
        }
        out.push(b'}');
    }
}
