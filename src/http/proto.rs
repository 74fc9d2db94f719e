//! The protobuf binary form of the few messages `ListIDPLinks` speaks, for Connect's
//! `application/proto` codec and gRPC-web — written by hand (a protobuf crate would bring more
//! code than these messages need). Field numbers are Zitadel's (`proto/zitadel/user/v2/
//! user_service.proto`, `proto/zitadel/object/v2/object.proto`, `proto/zitadel/user/v2/idp.proto`,
//! `proto/zitadel/message.proto` in zitadel/zitadel):
//!
//! | message | fields |
//! | --- | --- |
//! | `ListIDPLinksRequest` | 1 `user_id` string, 2 `query` ListQuery |
//! | `ListQuery` | 1 `offset` uint64, 2 `limit` uint32, 3 `asc` bool |
//! | `ListIDPLinksResponse` | 1 `details` ListDetails, 2 `result` repeated IDPLink |
//! | `ListDetails` | 1 `total_result` uint64, 2 `processed_sequence` uint64, 3 `timestamp` |
//! | `google.protobuf.Timestamp` | 1 `seconds` int64, 2 `nanos` int32 |
//! | `IDPLink` | 1 `idp_id`, 2 `user_id`, 3 `user_name` (strings) |
//! | `zitadel.v1.ErrorDetail` | 1 `id`, 2 `message` (strings) |
//! | `google.rpc.Status` | 1 `code` int32, 2 `message` string, 3 `details` repeated Any |
//! | `google.protobuf.Any` | 1 `type_url` string, 2 `value` bytes |
//!
//! As protobuf requires: fields in any order, the last of a repeated scalar wins, a repeated
//! message field is merged, unknown fields are skipped, and fields at their zero value are not
//! written; `uint32` keeps a varint's low 32 bits, as Go's decoder does.

use crate::query::request::ListIdpLinksRequest;
use crate::snapshot::Snapshot;
use std::borrow::Cow;

/// Why a message cannot be decoded (its text is connect-go's kind of message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoError(pub &'static str);

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ProtoError {}

/// A protobuf reader over one message's bytes.
struct Fields<'a> {
    bytes: &'a [u8],
}

/// One field's value.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Fields<'a> {
    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.bytes.split_first().ok_or(ProtoError("unexpected end of a varint"))?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtoError("a varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if self.bytes.len() < n {
            return Err(ProtoError("a field longer than its message"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The next field's number and value, or `None` at the end.
    fn next_field(&mut self) -> Result<Option<(u64, Value<'a>)>, ProtoError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return Err(ProtoError("a field numbered 0"));
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => self.take(8).map(|_| Value::Fixed)?,
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| ProtoError("a field longer than its message"))?;
                Value::Bytes(self.take(n)?)
            }
            5 => self.take(4).map(|_| Value::Fixed)?,
            _ => return Err(ProtoError("a group or an unknown wire type")),
        };
        Ok(Some((number, value)))
    }
}

/// Decodes a `ListIDPLinksRequest`.
///
/// # Errors
/// A [`ProtoError`] for bytes that are not that message (wrong wire types for known fields,
/// truncated fields, a `user_id` that is not UTF-8).
pub fn decode_list_idp_links(bytes: &[u8]) -> Result<ListIdpLinksRequest<'static>, ProtoError> {
    let mut request = ListIdpLinksRequest { user_id: Cow::Owned(String::new()), offset: 0, limit: 0, asc: false };
    let mut fields = Fields { bytes };
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Value::Bytes(text)) => {
                let text = std::str::from_utf8(text).map_err(|_| ProtoError("string field user_id is not UTF-8"))?;
                request.user_id = Cow::Owned(text.to_owned());
            }
            (2, Value::Bytes(query)) => decode_query(query, &mut request)?,
            (1 | 2, _) => return Err(ProtoError("a field of the wrong wire type")),
            _ => {}
        }
    }
    Ok(request)
}

/// Merges a `ListQuery` into `request`.
fn decode_query(bytes: &[u8], request: &mut ListIdpLinksRequest) -> Result<(), ProtoError> {
    let mut fields = Fields { bytes };
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Value::Varint(n)) => request.offset = n,
            (2, Value::Varint(n)) => request.limit = n as u32,
            (3, Value::Varint(n)) => request.asc = n != 0,
            (1..=3, _) => return Err(ProtoError("a field of the wrong wire type")),
            _ => {}
        }
    }
    Ok(())
}

/// A protobuf writer.
#[derive(Default)]
pub struct Writer {
    /// The message's bytes.
    pub out: Vec<u8>,
}

impl Writer {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    /// A varint field, unless zero.
    fn uint(&mut self, number: u64, n: u64) {
        if n != 0 {
            self.varint(number << 3);
            self.varint(n);
        }
    }

    /// A length-delimited field (a string, bytes or a message), unless empty and `optional`.
    fn bytes(&mut self, number: u64, bytes: &[u8], optional: bool) {
        if !(optional && bytes.is_empty()) {
            self.varint(number << 3 | 2);
            self.varint(bytes.len() as u64);
            self.out.extend_from_slice(bytes);
        }
    }

    /// A message field: its bytes written by `write` into a writer of their own.
    fn message(&mut self, number: u64, write: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        write(&mut inner);
        self.bytes(number, &inner.out, false);
    }
}

impl Snapshot {
    /// The `ListIDPLinksResponse` for `request`, as protobuf bytes.
    ///
    /// # Errors
    /// As [`Snapshot::idp_page`].
    pub fn list_idp_links_proto(
        &self,
        request: &ListIdpLinksRequest,
        context: &crate::query::CallContext,
    ) -> Result<Vec<u8>, crate::error::ZitadelError> {
        let page = self.idp_page(request, context)?;
        let details = self.idp_details(&page);
        let mut w = Writer::default();
        w.message(1, |d| {
            d.uint(1, details.total.unwrap_or(0));
            d.uint(2, details.sequence.unwrap_or(0));
            d.message(3, |t| {
                // int64 and int32 as varints: a negative value as its 64-bit two's complement.
                t.uint(1, self.timestamp.seconds as u64);
                t.uint(2, u64::from(self.timestamp.nanos));
            });
        });
        for &link in &page.links {
            let text = |column: &[u32]| column.get(link as usize).map_or("", |&s| self.str(s));
            w.message(2, |l| {
                l.bytes(1, text(&self.idp.idp_id).as_bytes(), true);
                l.bytes(2, text(&self.idp.provided_id).as_bytes(), true);
                if let Some(name) = self.idp_user_name(link as usize) {
                    l.bytes(3, self.str(name).as_bytes(), true);
                }
            });
        }
        Ok(w.out)
    }
}

/// A `zitadel.v1.ErrorDetail`.
pub fn error_detail(id: &str, message: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes(1, id.as_bytes(), true);
    w.bytes(2, message.as_bytes(), true);
    w.out
}

/// A `google.rpc.Status` with one `zitadel.v1.ErrorDetail` (gRPC's `grpc-status-details-bin`).
pub fn status_with_detail(code: u8, message: &str, detail: &[u8]) -> Vec<u8> {
    let mut w = Writer::default();
    w.uint(1, u64::from(code));
    w.bytes(2, message.as_bytes(), true);
    w.message(3, |any| {
        any.bytes(1, b"type.googleapis.com/zitadel.v1.ErrorDetail", true);
        any.bytes(2, detail, true);
    });
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_request_whatever_the_field_order_and_skips_unknown_fields() {
        // query { limit: 5, asc: true, offset: 2 }, an unknown fixed32, then user_id "u1".
        let bytes = [0x12, 0x06, 0x10, 0x05, 0x18, 0x01, 0x08, 0x02, 0x3d, 1, 2, 3, 4, 0x0a, 0x02, b'u', b'1'];
        let request = decode_list_idp_links(&bytes).expect("a valid message");
        assert_eq!((request.user_id.as_ref(), request.offset, request.limit, request.asc), ("u1", 2, 5, true));
        // The last scalar wins; uint32 keeps the low 32 bits.
        let bytes = [0x12, 0x02, 0x10, 0x01, 0x12, 0x06, 0x10, 0x80, 0x80, 0x80, 0x80, 0x10];
        assert_eq!(decode_list_idp_links(&bytes).map(|r| r.limit), Ok(0));
        assert_eq!(decode_list_idp_links(&[]).map(|r| r.user_id.into_owned()), Ok(String::new()));
    }

    #[test]
    fn refuses_truncated_and_mistyped_fields() {
        for bad in [&[0x0a, 0x05, b'a'][..], &[0x08, 0x01], &[0x0a], &[0x0b], &[0x0a, 0x01, 0xff], &[0x00, 0x00]] {
            assert!(decode_list_idp_links(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writes_zero_values_not_at_all_and_negative_ints_as_ten_bytes() {
        let mut w = Writer::default();
        w.uint(1, 0);
        w.bytes(2, b"", true);
        assert!(w.out.is_empty());
        w.uint(1, -1i64 as u64);
        assert_eq!(w.out.len(), 11);
        assert_eq!(error_detail("ID-1", "m"), [0x0a, 4, b'I', b'D', b'-', b'1', 0x12, 1, b'm']);
    }
}
