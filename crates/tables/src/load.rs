//! Loading a snapshot from JSON text, enforcing every rule of SNAPSHOT.md.
//!
//! The text streams through the pull [`Reader`] straight into the columns: no tree, no
//! `String` per field. Rules that need one value (types, lengths, unknown fields, duplicate ids)
//! are checked as the value is read, so the error names the first offending value in document
//! order; rules that need the whole document (references, duplicate pairs) are checked after,
//! table by table (memberships, then idpLinks), row by row. On any error nothing is kept.

use crate::build::{self, Raw};
use crate::error::{comma_list, SnapshotError, SnapshotProblem};
use crate::intern::Interner;
use crate::strings::{char_count, Sym, NONE};
use crate::tables::{Limits, Tables, AUTH_GLOBAL, AUTH_GRANT, AUTH_GROUP_BIT, AUTH_REVOKE, MAX_RANK, RESOURCE_TYPES};
use identity_links_text::escape::quote;
use identity_links_text::number::{parse_decimal, parse_uint};
use identity_links_text::reader::{Kind, Reader, SyntaxError};
use identity_links_text::timestamp::Timestamp;

/// The longest id, type, name or org, in characters (Zitadel's limit; SNAPSHOT.md rule 2).
pub const MAX_CHARS: usize = 200;

/// A refusal on its way out of the loader: boxed, so that each `?` moves a pointer, not the
/// error (in wasm, the code of every early return in the loader).
type Refused = Box<SnapshotError>;

/// One step of a JSON path.
#[derive(Clone, Copy, Debug)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Loads and validates a snapshot, refusing input over `limits.max_bytes`; see the module
/// documentation. The columns derived from the rows alone (each user's Java hash, groups and
/// IdP links) are left empty: the core's `Snapshot` fills them (`Snapshot::derive`, compiled
/// for size), for a load as for a delta's result.
pub fn load(text: &[u8], limits: Limits) -> Result<Tables, SnapshotError> {
    limits.check_input(text.len(), "$")?;
    // Snapshots hold one distinct string per 150-270 bytes of JSON (bench/generate.mjs's data
    // sets): an index sized for one per 128 bytes rarely grows.
    let strings = Interner::with_capacity(text.len() / 128);
    let mut loader = Loader { r: Reader::new(text), path: Vec::new(), raw: Raw { strings, ..Raw::default() } };
    loader.document().map_err(|refused| *refused)?;
    build::build(loader.raw)
}

/// The rows of a snapshot document, each value checked as [`load`] checks it, before the rules
/// that need the whole document (references, duplicate pairs) and the indexes
/// ([`build::index`]): for a native caller that reads a document in parts (the exporter's
/// follower). [`load`] does not call it: the module, which has only `load`, was 34 bytes larger
/// gzipped when it did.
pub fn parse(text: &[u8], limits: Limits) -> Result<Raw, SnapshotError> {
    limits.check_input(text.len(), "$")?;
    let strings = Interner::with_capacity(text.len() / 128);
    let mut loader = Loader { r: Reader::new(text), path: Vec::new(), raw: Raw { strings, ..Raw::default() } };
    loader.document().map_err(|refused| *refused)?;
    Ok(loader.raw)
}

struct Loader<'a> {
    r: Reader<'a>,
    path: Vec<Seg>,
    raw: Raw,
}

const TOP: &[&str] = &[
    "version",
    "sequence",
    "timestamp",
    "users",
    "groups",
    "memberships",
    "tasks",
    "idpLinks",
    "authorizations",
    "authorizationEnabled",
    "zitadelMembers",
];

/// A record's fields: their names, the same quoted as keys (`"id"`), and each key as writers
/// write it, with what precedes it (`{"id":`, then `,"name":` ...), for [`Loader::compact`].
macro_rules! record {
    ($names:ident: $first:literal $(, $rest:literal)*) => {
        const $names: Fields = Fields {
            names: &[$first $(, $rest)*],
            keys: &[concat!("\"", $first, "\"") $(, concat!("\"", $rest, "\""))*],
            written: &[concat!("{\"", $first, "\":") $(, concat!(",\"", $rest, "\":"))*],
        };
    };
}

/// See [`record!`].
struct Fields {
    names: &'static [&'static str],
    keys: &'static [&'static str],
    written: &'static [&'static str],
}

record!(USER: "id", "firstName", "lastName", "org");
record!(GROUP: "id", "name", "rank");
record!(MEMBERSHIP: "userId", "groupId", "rank");
record!(TASK: "id", "assignee", "owner", "processDefinitionKey", "identityLinks");
record!(LINK: "userId", "groupId", "type");
record!(IDP_LINK: "userId", "idpId", "providedUserId", "providedUserName");

/// What a field may hold (SNAPSHOT.md): a string, with whether `""` is refused and whether
/// `null` is allowed; or (`rank`) a rank, an integer from 0 to [`MAX_RANK`], read into the
/// field's slot as it is (absent stays [`NONE`], which no rank is).
#[derive(Clone, Copy)]
struct Text {
    non_empty: bool,
    nullable: bool,
    rank: bool,
}

const ID: Text = Text { non_empty: true, nullable: false, rank: false };
const NAME: Text = Text { non_empty: false, nullable: true, rank: false };
const REF_OR_NULL: Text = Text { non_empty: true, nullable: true, rank: false };
const PROVIDED_NAME: Text = Text { non_empty: false, nullable: false, rank: false };
/// `groups[].rank`, `memberships[].rank`: the source database's order (docs/semantics.md).
const RANK: Text = Text { non_empty: false, nullable: false, rank: true };

impl Loader<'_> {
    #[cold]
    #[inline(never)]
    fn path_text(&self, extra: Option<&str>) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        if let Some(k) = extra {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(k);
        }
        if out.is_empty() {
            out.push('$');
        }
        out
    }

    #[cold]
    #[inline(never)]
    fn fail(&self, problem: SnapshotProblem) -> Refused {
        Box::new(SnapshotError::new(self.path_text(None), problem))
    }

    #[cold]
    #[inline(never)]
    fn fail_at(&self, key: &str, problem: SnapshotProblem) -> Refused {
        Box::new(SnapshotError::new(self.path_text(Some(key)), problem))
    }

    #[cold]
    #[inline(never)]
    fn syntax(&self, e: SyntaxError) -> Refused {
        self.fail(SnapshotProblem::Syntax(e))
    }

    fn peek(&mut self) -> Result<Kind, Refused> {
        self.r.peek().map_err(|e| self.syntax(e))
    }

    #[cold]
    #[inline(never)]
    fn wrong_type(&mut self, expected: &'static str) -> Refused {
        match self.peek() {
            Ok(found) => self.fail(SnapshotProblem::WrongType { expected, found: found.described() }),
            Err(e) => e,
        }
    }

    /// Reads the key of the next field of an object whose fields are `names`; gives its index,
    /// or `None` at the end. Unknown and repeated keys are errors.
    fn next_field(&mut self, names: &'static [&'static str], seen: &mut u32) -> Result<Option<usize>, Refused> {
        let key = match self.r.next_key() {
            Ok(Some(key)) => key,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.syntax(e)),
        };
        match names.iter().position(|n| *n == key) {
            Some(i) if *seen & (1 << i) != 0 => Err(self.fail_at(names[i], SnapshotProblem::DuplicateKey)),
            Some(i) => {
                *seen |= 1 << i;
                Ok(Some(i))
            }
            None => {
                let key = key.to_owned();
                Err(self.fail_at(&key, SnapshotProblem::UnknownField { allowed: comma_list(names) }))
            }
        }
    }

    fn begin_object(&mut self) -> Result<(), Refused> {
        if self.peek()? != Kind::Object {
            return Err(self.wrong_type("an object"));
        }
        self.r.begin_object().map_err(|e| self.syntax(e))
    }

    /// Calls `row` for each element of an array, with the element's index on the path.
    fn each(&mut self, mut row: impl FnMut(&mut Self, usize) -> Result<(), Refused>) -> Result<(), Refused> {
        if self.peek()? != Kind::Array {
            return Err(self.wrong_type("an array"));
        }
        self.r.begin_array().map_err(|e| self.syntax(e))?;
        let mut i = 0;
        loop {
            match self.r.next_item() {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(self.syntax(e)),
            }
            self.path.push(Seg::Index(i));
            row(self, i)?;
            self.path.pop();
            i += 1;
        }
    }

    /// Reads a string of at most 200 characters (empty allowed unless `non_empty`) and interns it.
    fn string(&mut self, non_empty: bool) -> Result<Sym, Refused> {
        if self.peek()? != Kind::String {
            return Err(self.wrong_type("a string"));
        }
        let s = match self.r.read_str() {
            Ok(s) => s,
            Err(e) => return Err(self.syntax(e)),
        };
        let problem = if non_empty && s.is_empty() {
            Some(SnapshotProblem::Empty)
        } else if s.len() > MAX_CHARS && char_count(s) > MAX_CHARS {
            Some(SnapshotProblem::TooLong { chars: char_count(s) })
        } else {
            None
        };
        match problem {
            Some(p) => Err(self.fail(p)),
            None => {
                let sym = self.raw.strings.intern(s);
                sym.map_err(|_| self.fail(SnapshotProblem::Capacity))
            }
        }
    }

    /// Reads `null` (giving [`NONE`]) or a string as [`Loader::string`] does.
    fn nullable(&mut self, non_empty: bool, expected: &'static str) -> Result<Sym, Refused> {
        match self.peek()? {
            Kind::Null => {
                self.r.read_null().map_err(|e| self.syntax(e))?;
                Ok(NONE)
            }
            Kind::String => self.string(non_empty),
            _ => Err(self.wrong_type(expected)),
        }
    }

    /// Runs `read` with `names[field]` on the path.
    fn field<T>(
        &mut self,
        names: &'static [&'static str],
        field: usize,
        read: impl FnOnce(&mut Self) -> Result<T, Refused>,
    ) -> Result<T, Refused> {
        self.path.push(Seg::Key(names[field]));
        let value = read(self)?;
        self.path.pop();
        Ok(value)
    }

    /// Reads the object at the cursor, whose fields are `fields`, each a string as `texts` says: their symbols into `values`, [`NONE`] for null or absent. In one pass when it
    /// can be ([`Loader::compact`]), else token by token.
    fn record(&mut self, fields: &Fields, texts: &[Text], values: &mut [Sym]) -> Result<(), Refused> {
        if self.compact(fields, texts, values) {
            return Ok(());
        }
        let names = fields.names;
        values.fill(NONE);
        self.begin_object()?;
        let mut seen = 0;
        while let Some(f) = self.next_field(names, &mut seen)? {
            let text = texts[f];
            values[f] = self.field(names, f, |l| {
                if text.rank {
                    l.rank()
                } else if text.nullable {
                    l.nullable(text.non_empty, "a string or null")
                } else {
                    l.string(text.non_empty)
                }
            })?;
        }
        Ok(())
    }

    /// Reads the object at the cursor in one pass when nothing in it needs more: its fields are
    /// among `fields`, each at most once, in any order, each a string that `texts` allows or
    /// `null`, and a field past `texts` (a task's `identityLinks`) an array
    /// of identity links, pushed as they are read. What snapshot writers produce, whitespace and
    /// key order as they like; and read exactly as the token-by-token path reads it, interning the
    /// same strings in the same (document) order. The symbols go into `values` (untouched for an
    /// absent field); false, with the cursor back at the object's start and no link pushed, at
    /// the first byte that needs more (an escaped or unknown or repeated key, a string over 200
    /// bytes, a value of another type, a mistake) — that path then reads the object again and
    /// reports what is wrong, if anything.
    fn compact(&mut self, fields: &Fields, texts: &[Text], values: &mut [Sym]) -> bool {
        let start = self.r.offset();
        let links = self.raw.tasks.link_ref.len();
        if self.compact_fields(fields, texts, values) {
            return true;
        }
        self.raw.tasks.link_ref.truncate(links);
        self.raw.tasks.link_type.truncate(links);
        self.unmatched(start)
    }

    /// [`Loader::compact`]'s reading, leaving the cursor where it stops.
    #[inline]
    fn compact_fields(&mut self, fields: &Fields, texts: &[Text], values: &mut [Sym]) -> bool {
        let mut seen = 0u32;
        // The opening brace and the first key as writers write them, or any other way.
        let mut field = if self.r.eat(fields.written[0].as_bytes()) {
            0
        } else {
            self.r.skip_ws();
            if !self.r.eat(b"{") {
                return false;
            }
            self.r.skip_ws();
            if self.r.eat(b"}") {
                return true;
            }
            match self.key(fields, seen) {
                Some(field) => field,
                None => return false,
            }
        };
        loop {
            seen |= 1 << field;
            self.r.skip_ws();
            let value = match texts.get(field) {
                Some(&text) if text.rank => self.r.read_number().ok().and_then(rank),
                Some(&text) => match self.r.plain_str(MAX_CHARS) {
                    Some(s) => symbol(&mut self.raw.strings, s, text),
                    None if text.nullable && self.r.eat(b"null") => Some(NONE),
                    // A string with escapes, unescaped by the reader (or anything else: refused).
                    None => self.r.read_str().ok().and_then(|s| symbol(&mut self.raw.strings, s, text)),
                },
                None => self.compact_links().then_some(NONE),
            };
            let Some(sym) = value else { return false };
            if let Some(slot) = values.get_mut(field) {
                *slot = sym;
            }
            // The next key in the writers' order as they write it, or any other way.
            let next = seen.trailing_ones() as usize;
            if next > 0 && fields.written.get(next).is_some_and(|w| self.r.eat(w.as_bytes())) {
                field = next;
                continue;
            }
            self.r.skip_ws();
            if self.r.eat(b"}") {
                return true;
            }
            if !self.r.eat(b",") {
                return false;
            }
            self.r.skip_ws();
            field = match self.key(fields, seen) {
                Some(field) => field,
                None => return false,
            };
        }
    }

    /// One of `fields`' keys not in `seen`, with the `:` after it (whitespace allowed): its index.
    fn key(&mut self, fields: &Fields, seen: u32) -> Option<usize> {
        let field = fields.keys.iter().position(|key| self.r.eat(key.as_bytes()))?;
        self.r.skip_ws();
        (seen & (1 << field) == 0 && self.r.eat(b":")).then_some(field)
    }

    /// A task's `identityLinks` array in one pass (as [`Loader::compact`]), each link pushed as it
    /// is read; false at the first byte that needs more.
    fn compact_links(&mut self) -> bool {
        if !self.r.eat(b"[") {
            return false;
        }
        self.r.skip_ws();
        if self.r.eat(b"]") {
            return true;
        }
        loop {
            let mut link = [NONE; 3];
            if !self.compact_fields(&LINK, &[REF_OR_NULL, REF_OR_NULL, ID], &mut link) || link[2] == NONE {
                return false;
            }
            let Some((reference, kind)) = link_reference(link) else { return false };
            self.raw.tasks.link_ref.push(reference);
            self.raw.tasks.link_type.push(kind);
            self.r.skip_ws();
            if !self.r.eat(b",") {
                return self.r.eat(b"]");
            }
        }
    }

    /// Puts the cursor back at `start` for the token-by-token path: false, for [`Loader::compact`].
    fn unmatched(&mut self, start: usize) -> bool {
        self.r.rewind(start);
        false
    }

    fn required(&self, sym: Sym, name: &str) -> Result<Sym, Refused> {
        if sym == NONE {
            return Err(self.fail_at(name, SnapshotProblem::Missing));
        }
        Ok(sym)
    }

    fn document(&mut self) -> Result<(), Refused> {
        self.begin_object()?;
        let mut seen = 0;
        while let Some(field) = self.next_field(TOP, &mut seen)? {
            self.field(TOP, field, |l| match field {
                0 => l.version(),
                1 => l.sequence(),
                2 => l.timestamp(),
                3 => l.each(Self::user),
                4 => l.each(Self::group),
                5 => l.each(Self::membership),
                6 => l.each(Self::task),
                7 => l.each(Self::idp_link),
                8 => l.each(Self::authorization),
                9 => l.flag(),
                _ => l.each(Self::member),
            })?;
        }
        if seen & 1 == 0 {
            return Err(self.fail_at("version", SnapshotProblem::Missing));
        }
        self.r.finish().map_err(|e| self.syntax(e))
    }

    fn version(&mut self) -> Result<(), Refused> {
        if self.peek()? != Kind::Number {
            return Err(self.wrong_type("the number 1"));
        }
        let text = self.r.read_number().map_err(|e| self.syntax(e))?;
        if parse_uint(text, u64::MAX) != Ok(1) {
            return Err(self.fail(SnapshotProblem::Version { found: text.to_owned() }));
        }
        Ok(())
    }

    /// A `rank`: an integer from 0 to [`MAX_RANK`] (written as JSON numbers are: `3`, `3.0` and
    /// `3e0` are the same rank, as for `sequence`).
    fn rank(&mut self) -> Result<Sym, Refused> {
        if self.peek()? != Kind::Number {
            return Err(self.wrong_type("a rank (an integer)"));
        }
        let text = self.r.read_number().map_err(|e| self.syntax(e))?;
        rank(text).ok_or_else(|| self.fail(SnapshotProblem::Rank { found: text.to_owned() }))
    }

    fn sequence(&mut self) -> Result<(), Refused> {
        let parsed = match self.peek()? {
            Kind::Number => {
                let text = self.r.read_number().map_err(|e| self.syntax(e))?;
                parse_uint(text, u64::MAX).map_err(|_| text.to_owned())
            }
            Kind::String => {
                let text = match self.r.read_str() {
                    Ok(text) => text,
                    Err(e) => return Err(self.syntax(e)),
                };
                parse_decimal(text, u64::MAX).map_err(|_| quote(text))
            }
            _ => return Err(self.wrong_type("a uint64 as a decimal string or an integer")),
        };
        self.raw.sequence = parsed.map_err(|found| self.fail(SnapshotProblem::Sequence { found }))?;
        Ok(())
    }

    fn timestamp(&mut self) -> Result<(), Refused> {
        if self.peek()? != Kind::String {
            return Err(self.wrong_type("an RFC 3339 string"));
        }
        let text = match self.r.read_str() {
            Ok(text) => text,
            Err(e) => return Err(self.syntax(e)),
        };
        match Timestamp::parse(text) {
            Ok(t) => {
                self.raw.timestamp = t;
                Ok(())
            }
            Err(why) => {
                let found = text.to_owned();
                Err(self.fail(SnapshotProblem::Timestamp { found, why }))
            }
        }
    }

    /// Records `sym` as the id of row `row` in `by_sym`, refusing a duplicate.
    fn unique(&self, by_sym: &mut Vec<u32>, sym: Sym, row: usize) -> Result<(), Refused> {
        let i = sym as usize;
        if by_sym.len() <= i {
            by_sym.resize(self.raw.strings.strings().len().max(i + 1), NONE);
        }
        if by_sym[i] != NONE {
            let id = self.raw.strings.strings().get(sym).to_owned();
            return Err(self.fail_at("id", SnapshotProblem::DuplicateId { id, first: by_sym[i] as usize }));
        }
        by_sym[i] = u32::try_from(row).map_err(|_| self.fail(SnapshotProblem::Capacity))?;
        Ok(())
    }

    /// The required `id` of row `row`, recorded in the by-symbol column that `column` picks from
    /// the loader's rows, refusing an id seen before in that table. (Inlined into its three
    /// callers: called through the column picker, it cost the module 130 bytes gzipped.)
    #[inline(always)]
    fn row_id(&mut self, id: Sym, row: usize, column: fn(&mut Raw) -> &mut Vec<u32>) -> Result<Sym, Refused> {
        let id = self.required(id, "id")?;
        // The column leaves the rows while it is checked, so that the check can read the strings.
        let mut by_sym = std::mem::take(column(&mut self.raw));
        let unique = self.unique(&mut by_sym, id, row);
        *column(&mut self.raw) = by_sym;
        unique.map(|()| id)
    }

    fn user(&mut self, row: usize) -> Result<(), Refused> {
        let mut v = [NONE; 4];
        self.record(&USER, &[ID, NAME, NAME, NAME], &mut v)?;
        let id = self.row_id(v[0], row, |raw| &mut raw.user_by_sym)?;
        self.raw.user_id.push(id);
        self.raw.user_first.push(v[1]);
        self.raw.user_last.push(v[2]);
        self.raw.user_org.push(v[3]);
        Ok(())
    }

    fn group(&mut self, row: usize) -> Result<(), Refused> {
        let mut v = [NONE; 3];
        self.record(&GROUP, &[ID, NAME, RANK], &mut v)?;
        let id = self.row_id(v[0], row, |raw| &mut raw.group_by_sym)?;
        self.raw.group_id.push(id);
        self.raw.group_name.push(v[1]);
        self.raw.group_rank.push(v[2]);
        Ok(())
    }

    fn membership(&mut self, _row: usize) -> Result<(), Refused> {
        let mut v = [NONE; 3];
        self.record(&MEMBERSHIP, &[ID, ID, RANK], &mut v)?;
        let pair = (self.required(v[0], "userId")?, self.required(v[1], "groupId")?);
        self.raw.memberships.push(pair);
        self.raw.membership_rank.push(v[2]);
        Ok(())
    }

    fn task(&mut self, row: usize) -> Result<(), Refused> {
        let mut v = [NONE; 4];
        if !self.compact(&TASK, &[ID, REF_OR_NULL, REF_OR_NULL, REF_OR_NULL], &mut v) {
            self.task_fields(&mut v)?;
        }
        let id = self.row_id(v[0], row, |raw| &mut raw.task_by_sym)?;
        let tasks = &mut self.raw.tasks;
        tasks.id.push(id);
        tasks.assignee.push(v[1]);
        tasks.owner.push(v[2]);
        tasks.definition.push(v[3]);
        let end = u32::try_from(tasks.link_ref.len())
            .map_err(|_| Box::new(SnapshotError::new("tasks", SnapshotProblem::Capacity)))?;
        if tasks.links_at.is_empty() {
            tasks.links_at.push(0);
        }
        tasks.links_at.push(end);
        Ok(())
    }

    /// A task's fields read token by token: `id`, `assignee`, `owner` and `processDefinitionKey`
    /// into `v`, its links pushed.
    fn task_fields(&mut self, v: &mut [Sym; 4]) -> Result<(), Refused> {
        *v = [NONE; 4];
        self.begin_object()?;
        let mut seen = 0;
        while let Some(f) = self.next_field(TASK.names, &mut seen)? {
            if f == 4 {
                self.field(TASK.names, f, |l| l.each(Self::identity_link))?;
            } else {
                v[f] = self.field(TASK.names, f, |l| {
                    if f == 0 {
                        l.string(true)
                    } else {
                        l.nullable(true, "a string or null")
                    }
                })?;
            }
        }
        Ok(())
    }

    fn identity_link(&mut self, _row: usize) -> Result<(), Refused> {
        let mut v = [NONE; 3];
        self.record(&LINK, &[REF_OR_NULL, REF_OR_NULL, ID], &mut v)?;
        self.required(v[2], "type")?;
        let (reference, kind) = link_reference(v).ok_or_else(|| self.fail(SnapshotProblem::LinkIds))?;
        self.raw.tasks.link_ref.push(reference);
        self.raw.tasks.link_type.push(kind);
        Ok(())
    }

    fn idp_link(&mut self, _row: usize) -> Result<(), Refused> {
        let mut v = [NONE; 4];
        self.record(&IDP_LINK, &[ID, ID, ID, PROVIDED_NAME], &mut v)?;
        self.raw.idp_user.push(self.required(v[0], "userId")?);
        self.raw.idp_id.push(self.required(v[1], "idpId")?);
        self.raw.idp_provided_id.push(self.required(v[2], "providedUserId")?);
        self.raw.idp_provided_name.push(self.required(v[3], "providedUserName")?);
        Ok(())
    }
}

/// `authorizations[]`' fields.
const AUTHORIZATION: &[&str] = &["type", "userId", "groupId", "resourceType", "resourceId", "permissions"];
/// `zitadelMembers[]`' fields.
const MEMBER: &[&str] = &["userId", "org", "project", "roles"];

impl Loader<'_> {
    /// `authorizationEnabled`: a boolean.
    fn flag(&mut self) -> Result<(), Refused> {
        if self.peek()? != Kind::Bool {
            return Err(self.wrong_type("a boolean"));
        }
        self.raw.authorization_enabled = self.r.read_bool().map_err(|e| self.syntax(e))?;
        Ok(())
    }

    /// An integer field of an authorization: its value if `allowed` says so, else refused naming it.
    fn integer(&mut self, expected: &'static str, allowed: fn(i64) -> bool) -> Result<u32, Refused> {
        if self.peek()? != Kind::Number {
            return Err(self.wrong_type("an integer"));
        }
        let text = self.r.read_number().map_err(|e| self.syntax(e))?;
        let value = match text.strip_prefix('-') {
            Some(digits) => parse_uint(digits, 1 << 31).ok().map(|v| -(v as i64)),
            None => parse_uint(text, u64::from(u32::MAX)).ok().map(|v| v as i64),
        };
        match value.filter(|&v| allowed(v)) {
            // A Java `int` kept as its bits.
            Some(v) => Ok(v as i32 as u32),
            None => Err(self.fail(SnapshotProblem::NotAllowed { found: text.to_owned(), expected })),
        }
    }

    /// One row of `authorizations`: `{type, userId | groupId, resourceType, resourceId, permissions}`.
    fn authorization(&mut self, _row: usize) -> Result<(), Refused> {
        self.begin_object()?;
        let mut seen = 0;
        let (mut kind, mut user, mut group, mut resource_type, mut resource, mut perms) =
            (NONE, NONE, NONE, NONE, NONE, 0);
        while let Some(f) = self.next_field(AUTHORIZATION, &mut seen)? {
            self.field(AUTHORIZATION, f, |l| {
                match f {
                    0 => {
                        kind =
                            l.integer("an authorization type (0 global, 1 grant, 2 revoke)", |v| (0..=2).contains(&v))?
                    }
                    1 => user = l.string(true)?,
                    2 => group = l.string(true)?,
                    3 => {
                        resource_type = l.integer(
                            "a resource type identity-links reads (1 User, 2 Group, 6 ProcessDefinition, 7 Task)",
                            |v| RESOURCE_TYPES.iter().any(|&t| i64::from(t) == v),
                        )?
                    }
                    4 => resource = l.string(true)?,
                    _ => {
                        perms = l.integer("a Java int (permission bits)", |v| {
                            (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v)
                        })?
                    }
                }
                Ok(())
            })?;
        }
        for (i, value) in [(0, kind), (3, resource_type), (4, resource)] {
            if value == NONE {
                return Err(self.fail_at(AUTHORIZATION[i], SnapshotProblem::Missing));
            }
        }
        if seen & (1 << 5) == 0 {
            return Err(self.fail_at("permissions", SnapshotProblem::Missing));
        }
        let star = |sym: Sym, raw: &Raw| sym != NONE && raw.strings.strings().get(sym) == "*";
        let owner = match (kind, user, group) {
            (AUTH_GLOBAL, user, NONE) if star(user, &self.raw) => (user, 0),
            (AUTH_GRANT | AUTH_REVOKE, user, NONE) if user != NONE => (user, 0),
            (AUTH_GRANT | AUTH_REVOKE, NONE, group) if group != NONE => (group, AUTH_GROUP_BIT),
            _ => return Err(self.fail(SnapshotProblem::AuthorizationOwner)),
        };
        self.raw.authorizations.push((owner.0, kind | owner.1 | resource_type << 3, resource, perms));
        Ok(())
    }

    /// One row of `zitadelMembers`: `{userId, org?, project?, roles}`.
    fn member(&mut self, _row: usize) -> Result<(), Refused> {
        self.begin_object()?;
        let mut seen = 0;
        let (mut user, mut org, mut project) = (NONE, NONE, NONE);
        let roles_from = self.raw.member_roles.len();
        while let Some(f) = self.next_field(MEMBER, &mut seen)? {
            self.field(MEMBER, f, |l| {
                match f {
                    0 => user = l.string(true)?,
                    1 => org = l.string(true)?,
                    2 => project = l.string(true)?,
                    _ => {
                        l.raw.member_roles.truncate(roles_from);
                        l.each(|l, _| {
                            let role = l.string(true)?;
                            l.raw.member_roles.push(role);
                            Ok(())
                        })?
                    }
                }
                Ok(())
            })?;
        }
        self.required(user, "userId")?;
        if seen & (1 << 3) == 0 {
            return Err(self.fail_at("roles", SnapshotProblem::Missing));
        }
        if project != NONE && org == NONE {
            return Err(self.fail_at("org", SnapshotProblem::Missing));
        }
        let raw = &mut self.raw;
        raw.member_user.push(user);
        raw.member_org.push(org);
        raw.member_project.push(project);
        let end = u32::try_from(raw.member_roles.len())
            .map_err(|_| Box::new(SnapshotError::new("zitadelMembers", SnapshotProblem::Capacity)))?;
        if raw.member_roles_at.is_empty() {
            raw.member_roles_at.push(0);
        }
        raw.member_roles_at.push(end);
        Ok(())
    }
}

/// An identity link's reference (its `userId` or its `groupId`) and its type word (the type's
/// symbol, shifted, with the low bit set for a group); `None` unless exactly one id is set.
fn link_reference([user, group, kind]: [Sym; 3]) -> Option<(Sym, u32)> {
    match (user, group) {
        (user, NONE) if user != NONE => Some((user, kind << 1)),
        (NONE, group) if group != NONE => Some((group, kind << 1 | 1)),
        _ => None,
    }
}

/// The rank a JSON number's `text` gives, if it is one (an integer from 0 to [`MAX_RANK`]).
fn rank(text: &str) -> Option<Sym> {
    parse_uint(text, u64::from(MAX_RANK)).ok().map(|r| r as u32)
}

/// The symbol of `s` as the value of a field that holds `text`: `None` when the field refuses
/// it (empty, over 200 bytes: the token-by-token path then says which), or the table is full.
#[inline]
fn symbol(strings: &mut Interner, s: &str, text: Text) -> Option<Sym> {
    if (text.non_empty && s.is_empty()) || s.len() > MAX_CHARS {
        return None;
    }
    strings.intern(s).ok()
}
