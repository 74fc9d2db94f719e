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
//! Writing: fields at their zero value are not written, as protobuf requires.
//!
//! Reading does what protobuf-go (the decoder of Zitadel and connect-go) does:
//! `encoding/protowire/wire.go` (`ConsumeField`, `ConsumeFieldValue`, `ConsumeGroup`,
//! `ConsumeVarint`, `ConsumeTag`) and `internal/impl/decode.go` in google.golang.org/protobuf.
//! Fields come in any order, the last of a repeated scalar wins, a repeated message field is
//! merged, and `uint32` keeps a varint's low 32 bits. An unknown field, or a known one of
//! another wire type than its own (which protobuf-go keeps among the unknown fields:
//! `errUnknown` in `internal/impl/codec_gen.go`), is skipped whatever its wire type: varint (0),
//! i64 (1), length-delimited (2), i32 (5), and a deprecated group (3) up to the end group (4)
//! of the same field number, the groups nested in it included. Refused
//! (a [`ProtoError`], which the caller answers with `invalid_argument`), as protobuf-go refuses it:
//! - bytes that end inside a field, a length past its message's end, a group that never ends
//!   (`errCodeTruncated`);
//! - a varint of more than 64 bits: a tenth byte above 1, or an eleventh byte
//!   (`errCodeOverflow`);
//! - a field number 0, or above 2^29 - 1 (`MaxValidNumber`; in a skipped group, where only
//!   `ConsumeTag` checks it, above 2^31 - 1) (`errCodeFieldNumber`);
//! - an end group with no group open, or not of the open group's field number
//!   (`errCodeEndGroup`);
//! - more than 10000 groups nested in a skipped group (`DefaultRecursionLimit`,
//!   `errCodeRecursionDepth`): skipped with a list of the open groups, not by recursion;
//! - the reserved wire types 6 and 7 (`errCodeReserved`);
//! - a `user_id` that is not UTF-8 (proto3 strings are checked).
//!
//! The texts are this module's own: protobuf-go says `proto: cannot parse invalid wire-format
//! data` for all but the last.

use crate::query::request::ListIdpLinksRequest;
use crate::snapshot::Snapshot;
use identity_links_text::timestamp::Timestamp;
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

/// protobuf's largest field number (`MaxValidNumber`), checked on the fields of a message.
const MAX_FIELD: u64 = (1 << 29) - 1;
/// The largest field number inside a skipped group: there only protowire's `ConsumeTag` checks
/// it, refusing what overflows an `int32`.
const MAX_GROUP_FIELD: u64 = i32::MAX as u64;
/// How deep groups may nest inside a skipped group (protowire's `DefaultRecursionLimit`).
const GROUP_DEPTH: usize = 10_000;

/// A protobuf reader over one message's bytes.
struct Fields<'a> {
    bytes: &'a [u8],
}

/// One field's value: a varint, a length-delimited value, or one of another wire type (skipped).
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Skipped,
}

impl<'a> Fields<'a> {
    /// A varint of at most 64 bits (protowire's `ConsumeVarint`): at most 10 bytes, the tenth
    /// 0 or 1.
    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first().ok_or(ProtoError("unexpected end of a varint"))?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 && (shift < 63 || byte <= 1) {
                return Ok(value);
            }
        }
        Err(ProtoError("a varint longer than 64 bits"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let (head, rest) = self.bytes.split_at_checked(n).ok_or(ProtoError("a field longer than its message"))?;
        self.bytes = rest;
        Ok(head)
    }

    /// A length-delimited value: its length, then its bytes.
    fn length_delimited(&mut self) -> Result<&'a [u8], ProtoError> {
        let n = self.varint()?;
        self.take(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// A field's tag: its number (1 to `max`) and its wire type.
    fn tag(&mut self, max: u64) -> Result<(u64, u64), ProtoError> {
        let key = self.varint()?;
        if !(1..=max).contains(&(key >> 3)) {
            return Err(ProtoError("a field number below 1 or above the largest allowed"));
        }
        Ok((key >> 3, key & 7))
    }

    /// The next field's number and value, or `None` at the end.
    fn next_field(&mut self) -> Result<Option<(u64, Value<'a>)>, ProtoError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let (number, wire) = self.tag(MAX_FIELD)?;
        let value = match wire {
            0 => Value::Varint(self.varint()?),
            2 => Value::Bytes(self.length_delimited()?),
            _ => self.skip(number, wire).map(|()| Value::Skipped)?,
        };
        Ok(Some((number, value)))
    }

    /// Skips the value of field `number` of wire type `wire` (protowire's `ConsumeFieldValue`).
    fn skip(&mut self, number: u64, wire: u64) -> Result<(), ProtoError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.length_delimited().map(drop),
            3 => self.skip_group(number),
            4 => Err(ProtoError("an end group without its start group")),
            5 => self.take(4).map(drop),
            _ => Err(ProtoError("a field of the reserved wire type 6 or 7")),
        }
    }

    /// Skips group `number` up to its end group, nested groups included: the open groups are
    /// kept in a list rather than on the call stack (protowire recurses).
    fn skip_group(&mut self, number: u64) -> Result<(), ProtoError> {
        let mut open = vec![number];
        while let Some(&innermost) = open.last() {
            if self.bytes.is_empty() {
                return Err(ProtoError("a group without its end group"));
            }
            let (number, wire) = self.tag(MAX_GROUP_FIELD)?;
            match wire {
                3 if open.len() > GROUP_DEPTH => return Err(ProtoError("groups nested deeper than 10000")),
                3 => open.push(number),
                4 if number == innermost => drop(open.pop()),
                4 => return Err(ProtoError("an end group not matching its start group")),
                _ => self.skip(number, wire)?,
            }
        }
        Ok(())
    }
}

/// Decodes a `ListIDPLinksRequest`.
///
/// # Errors
/// A [`ProtoError`] for bytes that are not that message, as the module documentation lists.
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
            _ => {} // unknown, or of another wire type: skipped
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
            _ => {} // unknown, or of another wire type: skipped
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
        let links = page.links.iter().map(|&link| {
            let text = |column: &[u32]| column.get(link as usize).map_or("", |&s| self.str(s));
            let name = self.idp_user_name(link as usize).map_or("", |s| self.str(s));
            [text(&self.idp.idp_id), text(&self.idp.provided_id), name]
        });
        let details = (details.total.unwrap_or(0), details.sequence.unwrap_or(0), self.timestamp);
        let mut w = Writer::default();
        list_idp_links_response(&mut w, details, links);
        Ok(w.out)
    }
}

/// A `ListIDPLinksResponse`: its `details` (`total_result`, `processed_sequence`, `timestamp`),
/// then a `result` for each link (`idp_id`, `user_id`, `user_name`).
fn list_idp_links_response<'s>(
    w: &mut Writer,
    details: (u64, u64, Timestamp),
    links: impl IntoIterator<Item = [&'s str; 3]>,
) {
    w.message(1, |d| list_details(d, details));
    for link in links {
        w.message(2, |l| idp_link(l, link));
    }
}

/// A `ListDetails`; its `timestamp` is always written, as Zitadel's is.
fn list_details(w: &mut Writer, (total, sequence, timestamp): (u64, u64, Timestamp)) {
    w.uint(1, total);
    w.uint(2, sequence);
    w.message(3, |t| timestamp_message(t, timestamp));
}

/// A `google.protobuf.Timestamp`: int64 and int32 as varints, a negative value as its 64-bit
/// two's complement.
fn timestamp_message(w: &mut Writer, timestamp: Timestamp) {
    w.uint(1, timestamp.seconds as u64);
    w.uint(2, u64::from(timestamp.nanos));
}

/// An `IDPLink`: `idp_id`, `user_id`, `user_name`.
fn idp_link(w: &mut Writer, link: [&str; 3]) {
    for (number, text) in (1..).zip(link) {
        w.bytes(number, text.as_bytes(), true);
    }
}

/// A `zitadel.v1.ErrorDetail`.
pub fn error_detail(id: &str, message: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes(1, id.as_bytes(), true);
    w.bytes(2, message.as_bytes(), true);
    w.out
}

/// A `google.rpc.Status` (gRPC's `grpc-status-details-bin`) with one `details` entry: Zitadel's
/// error detail (`id`, `text`).
pub fn status(code: u8, message: &str, (id, text): (&str, &str)) -> Vec<u8> {
    let mut w = Writer::default();
    w.uint(1, u64::from(code));
    w.bytes(2, message.as_bytes(), true);
    w.message(3, |a| any(a, "type.googleapis.com/zitadel.v1.ErrorDetail", &error_detail(id, text)));
    w.out
}

/// A `google.protobuf.Any`.
fn any(w: &mut Writer, type_url: &str, value: &[u8]) {
    w.bytes(1, type_url.as_bytes(), true);
    w.bytes(2, value, true);
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
    fn refuses_truncated_fields_and_skips_known_ones_of_another_wire_type() {
        for bad in [&[0x0a, 0x05, b'a'][..], &[0x0a], &[0x0b], &[0x0a, 0x01, 0xff], &[0x00, 0x00]] {
            assert!(decode_list_idp_links(bad).is_err(), "{bad:?}");
        }
        // user_id as a varint and as a group, query as an i32, then query { offset as an i64,
        // limit as a string, asc as a group }: all skipped, as protobuf-go skips them.
        let mut bytes = vec![0x08, 0x01, 0x0b, 0x0c, 0x15, 1, 2, 3, 4];
        bytes.extend(query(&[0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 1, b'x', 0x1b, 0x1c]));
        assert_eq!(fields(&bytes), Ok(Default::default()));
    }

    /// The request's fields, or the error's text.
    fn fields(bytes: &[u8]) -> Result<(String, u64, u32, bool), &'static str> {
        decode_list_idp_links(bytes).map(|r| (r.user_id.into_owned(), r.offset, r.limit, r.asc)).map_err(|e| e.0)
    }

    /// `bytes` as a `query` field.
    fn query(bytes: &[u8]) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(2, bytes, false);
        w.out
    }

    /// A varint's bytes.
    fn varint(n: u64) -> Vec<u8> {
        let mut w = Writer::default();
        w.varint(n);
        w.out
    }

    /// Unknown field 15 of each wire type: varint, i64, length-delimited, group (holding a
    /// field of each other type), i32.
    const UNKNOWN: [&[u8]; 5] = [
        &[0x78, 0x96, 0x01],
        &[0x79, 1, 2, 3, 4, 5, 6, 7, 8],
        &[0x7a, 2, 0x08, 0x01],
        &[0x7b, 0x08, 0x96, 0x01, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 1, 0xff, 0x0d, 1, 2, 3, 4, 0x7c],
        &[0x7d, 1, 2, 3, 4],
    ];

    #[test]
    fn skips_unknown_fields_of_every_wire_type_in_the_request_and_in_its_query() {
        for unknown in UNKNOWN {
            // Before and after user_id "u", and around query { offset: 3 }.
            let mut bytes = [unknown, &[0x0a, 1, b'u'], unknown].concat();
            bytes.extend(query(&[unknown, &[0x08, 0x03], unknown].concat()));
            assert_eq!(fields(&bytes), Ok(("u".to_owned(), 3, 0, false)), "{unknown:?}");
        }
    }

    #[test]
    fn skips_nested_groups_up_to_their_own_end_group() {
        // 15 { 1 { 2 { 15 {} } 3 { varint } } }, then asc; field numbers up to 2^31 - 1 inside.
        let mut bytes = vec![0x7b, 0x0b, 0x13, 0x7b, 0x7c, 0x14, 0x1b, 0x08, 0x01, 0x1c, 0x0c];
        bytes.extend([varint(((1 << 31) - 1) << 3), vec![0x01], vec![0x7c]].concat());
        assert_eq!(fields(&query(&[&bytes[..], &[0x18, 0x01]].concat())), Ok((String::new(), 0, 0, true)));
        // A skipped group holds at most 10000 nested groups.
        let nested = |n: usize| [vec![0x7b; n + 1], vec![0x7c; n + 1]].concat();
        assert!(fields(&nested(10_000)).is_ok());
        assert_eq!(fields(&nested(10_001)), Err("groups nested deeper than 10000"));
    }

    #[test]
    fn refuses_end_groups_without_their_start_group_and_groups_without_their_end() {
        let stray = Err("an end group without its start group");
        assert_eq!(fields(&[0x7c]), stray);
        assert_eq!(fields(&query(&[0x08, 0x01, 0x7c])), stray);
        let mismatched = Err("an end group not matching its start group");
        assert_eq!(fields(&[0x7b, 0x0c]), mismatched);
        assert_eq!(fields(&[0x7b, 0x0b, 0x7c, 0x0c]), mismatched);
        assert_eq!(fields(&query(&[0x7b, 0x0b, 0x7c])), mismatched);
        assert_eq!(fields(&[0x7b, 0x0b, 0x0c]), Err("a group without its end group"));
        // "{}": group 15 holding a truncated i32.
        assert_eq!(fields(b"{}"), Err("a field longer than its message"));
    }

    #[test]
    fn refuses_varints_past_64_bits() {
        let offset = |tail: &[u8]| [&[0x08][..], &[0xff; 9], tail].concat();
        assert_eq!(fields(&query(&offset(&[0x01]))), Ok((String::new(), u64::MAX, 0, false)));
        assert_eq!(fields(&query(&offset(&[0x02]))), Err("a varint longer than 64 bits"));
        assert_eq!(fields(&query(&offset(&[0x81, 0x00]))), Err("a varint longer than 64 bits"));
        assert_eq!(fields(&[&[0x78][..], &[0x80; 10], &[0x00]].concat()), Err("a varint longer than 64 bits"));
        assert_eq!(fields(&[0x78, 0x80]), Err("unexpected end of a varint"));
    }

    #[test]
    fn refuses_field_numbers_out_of_range_and_reserved_wire_types() {
        let out_of_range = Err("a field number below 1 or above the largest allowed");
        assert_eq!(fields(&[0x00, 0x00]), out_of_range);
        assert_eq!(fields(&query(&[0x00, 0x00])), out_of_range);
        assert_eq!(fields(&[0x7b, 0x02, 0x00, 0x7c]), out_of_range);
        assert_eq!(fields(&[varint(((1 << 29) - 1) << 3), vec![0x01]].concat()), Ok(Default::default()));
        assert_eq!(fields(&[varint(1 << 32), vec![0x01]].concat()), out_of_range);
        assert_eq!(fields(&[vec![0x7b], varint(1 << 34), vec![0x01, 0x7c]].concat()), out_of_range);
        for reserved in [&[0x7e][..], &[0x7f], &[0x7b, 0x0e, 0x7c], &[0x12, 1, 0x0f]] {
            assert_eq!(fields(reserved), Err("a field of the reserved wire type 6 or 7"), "{reserved:?}");
        }
    }

    /// A message's fields in order: a varint's value, or a length-delimited field's bytes.
    fn read(bytes: &[u8]) -> Vec<(u64, Result<u64, &[u8]>)> {
        let mut fields = Fields { bytes };
        let value = |value| match value {
            Value::Varint(n) => Ok(n),
            Value::Bytes(bytes) => Err(bytes),
            Value::Skipped => panic!("a field of another wire type"),
        };
        std::iter::from_fn(|| fields.next_field().expect("a valid message")).map(|(n, v)| (n, value(v))).collect()
    }

    /// A `ListIDPLinksResponse`'s details and links.
    fn read_response(bytes: &[u8]) -> ((u64, u64, Timestamp), Vec<[&str; 3]>) {
        let (mut details, mut links) = ((0, 0, Timestamp { seconds: 0, nanos: 0 }), Vec::new());
        for field in read(bytes) {
            match field {
                (1, Err(bytes)) => {
                    for field in read(bytes) {
                        match field {
                            (1, Ok(n)) => details.0 = n,
                            (2, Ok(n)) => details.1 = n,
                            (3, Err(bytes)) => {
                                for field in read(bytes) {
                                    match field {
                                        (1, Ok(n)) => details.2.seconds = n as i64,
                                        (2, Ok(n)) => details.2.nanos = n as u32,
                                        other => panic!("Timestamp {other:?}"),
                                    }
                                }
                            }
                            other => panic!("ListDetails {other:?}"),
                        }
                    }
                }
                (2, Err(bytes)) => {
                    let mut link = [""; 3];
                    for (n, text) in read(bytes) {
                        let text = std::str::from_utf8(text.expect_err("a string")).expect("UTF-8");
                        assert!(!text.is_empty(), "an empty string is not written");
                        link[n as usize - 1] = text;
                    }
                    links.push(link);
                }
                other => panic!("ListIDPLinksResponse {other:?}"),
            }
        }
        (details, links)
    }

    #[test]
    fn a_response_reads_back_as_written_and_writes_again_to_the_same_bytes() {
        let snapshot = Snapshot::from_json(
            br#"{"version":1,"sequence":"7","timestamp":"1969-12-31T23:59:59.5Z",
              "users":[{"id":"u","org":"O"}],"groups":[],"memberships":[],"tasks":[],
              "idpLinks":[{"userId":"u","idpId":"i1","providedUserId":"p1","providedUserName":"n1"},
                {"userId":"u","idpId":"i2","providedUserId":"p2","providedUserName":""}]}"#,
        )
        .expect("the test snapshot loads");
        let request = ListIdpLinksRequest { user_id: Cow::Borrowed("u"), offset: 0, limit: 0, asc: true };
        let context = crate::query::CallContext::from_value(None).expect("no context");
        let bytes = snapshot.list_idp_links_proto(&request, &context).expect("an answer");
        let (details, links) = read_response(&bytes);
        assert_eq!(details, (2, 7, Timestamp { seconds: -1, nanos: 500_000_000 }));
        assert_eq!(links, [["i1", "p1", "n1"], ["i2", "p2", ""]]);
        let mut w = Writer::default();
        list_idp_links_response(&mut w, details, links);
        assert_eq!(w.out, bytes);
    }

    #[test]
    fn a_status_carries_the_error_detail_in_an_any() {
        let bytes = status(3, "Limit exceeded (QUERY-4M0fs)", ("QUERY-4M0fs", "Limit exceeded"));
        let fields = read(&bytes);
        assert_eq!(fields[..2], [(1, Ok(3)), (2, Err(&b"Limit exceeded (QUERY-4M0fs)"[..]))]);
        assert_eq!(fields.len(), 3);
        let any = fields[2].1.expect_err("an Any");
        let detail = error_detail("QUERY-4M0fs", "Limit exceeded");
        assert_eq!(read(any), [(1, Err(&b"type.googleapis.com/zitadel.v1.ErrorDetail"[..])), (2, Err(&detail[..]))]);
        assert_eq!(read(&detail), [(1, Err(&b"QUERY-4M0fs"[..])), (2, Err(&b"Limit exceeded"[..]))]);
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
