//! Loading a snapshot from JSON text, enforcing every rule of SNAPSHOT.md.
//!
//! The text streams through the pull [`Reader`] straight into the columns: no tree, no
//! `String` per field. Rules that need one value (types, lengths, unknown fields, duplicate ids)
//! are checked as the value is read, so the error names the first offending value in document
//! order; rules that need the whole document (references, duplicate pairs) are checked after,
//! table by table (memberships, then idpLinks), row by row. On any error nothing is kept.

use crate::build::{self, Raw};
use crate::error::{comma_list, SnapshotError, SnapshotProblem};
use crate::escape::quote;
use crate::number::{parse_decimal, parse_uint};
use crate::reader::{Key, Kind, Reader, SyntaxError};
use crate::strings::{char_count, Strings, Sym, NONE};
use crate::tables::{Limits, Tables};
use crate::timestamp::Timestamp;

/// The longest id, type, name or org, in characters (Zitadel's limit; SNAPSHOT.md rule 2).
pub const MAX_CHARS: usize = 200;

/// One step of a JSON path.
#[derive(Clone, Copy, Debug)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Loads and validates a snapshot, refusing input over `limits.max_bytes`; see the module
/// documentation.
pub fn load(text: &[u8], limits: Limits) -> Result<Tables, SnapshotError> {
    limits.check_input(text.len(), "$")?;
    // Snapshots hold one distinct string per 150-270 bytes of JSON (bench/generate.mjs's data
    // sets): an index sized for one per 128 bytes rarely grows.
    let strings = Strings::with_capacity(text.len() / 128);
    let mut loader = Loader { r: Reader::new(text), path: Vec::new(), raw: Raw { strings, ..Raw::default() } };
    loader.document()?;
    build::build(loader.raw)
}

struct Loader<'a> {
    r: Reader<'a>,
    path: Vec<Seg>,
    raw: Raw,
}

const TOP: &[&str] = &["version", "sequence", "timestamp", "users", "groups", "memberships", "tasks", "idpLinks"];
const USER: &[&str] = &["id", "firstName", "lastName", "org"];
const GROUP: &[&str] = &["id", "name"];
const MEMBERSHIP: &[&str] = &["userId", "groupId"];
const TASK: &[&str] = &["id", "assignee", "owner", "identityLinks"];
const LINK: &[&str] = &["userId", "groupId", "type"];
const IDP_LINK: &[&str] = &["userId", "idpId", "providedUserId", "providedUserName"];

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
    fn fail(&self, problem: SnapshotProblem) -> SnapshotError {
        SnapshotError::new(self.path_text(None), problem)
    }

    #[cold]
    #[inline(never)]
    fn fail_at(&self, key: &str, problem: SnapshotProblem) -> SnapshotError {
        SnapshotError::new(self.path_text(Some(key)), problem)
    }

    #[cold]
    #[inline(never)]
    fn syntax(&self, e: SyntaxError) -> SnapshotError {
        self.fail(SnapshotProblem::Syntax(e))
    }

    fn peek(&mut self) -> Result<Kind, SnapshotError> {
        self.r.peek().map_err(|e| self.syntax(e))
    }

    #[cold]
    #[inline(never)]
    fn wrong_type(&mut self, expected: &'static str) -> SnapshotError {
        match self.peek() {
            Ok(found) => self.fail(SnapshotProblem::WrongType { expected, found: found.described() }),
            Err(e) => e,
        }
    }

    /// Reads the key of the next field of an object whose fields are `names`; gives its index,
    /// or `None` at the end. Unknown and repeated keys are errors.
    ///
    /// Fields usually come in the order of `names`: the first one not yet seen is guessed, and
    /// recognised by its bytes without reading the key as a string.
    fn next_field(&mut self, names: &'static [&'static str], seen: &mut u32) -> Result<Option<usize>, SnapshotError> {
        let guess = seen.trailing_ones() as usize;
        let key = match self.r.next_key_guessing(names.get(guess).copied().unwrap_or("")) {
            Ok(Some(Key::Guessed)) if guess < names.len() => {
                *seen |= 1 << guess;
                return Ok(Some(guess));
            }
            Ok(Some(Key::Guessed)) => "",
            Ok(Some(Key::Other(key))) => key,
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

    fn begin_object(&mut self) -> Result<(), SnapshotError> {
        if self.peek()? != Kind::Object {
            return Err(self.wrong_type("an object"));
        }
        self.r.begin_object().map_err(|e| self.syntax(e))
    }

    /// Calls `row` for each element of an array, with the element's index on the path.
    fn each(
        &mut self,
        mut row: impl FnMut(&mut Self, usize) -> Result<(), SnapshotError>,
    ) -> Result<(), SnapshotError> {
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
    fn string(&mut self, non_empty: bool) -> Result<Sym, SnapshotError> {
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
    fn nullable(&mut self, non_empty: bool, expected: &'static str) -> Result<Sym, SnapshotError> {
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
        read: impl FnOnce(&mut Self) -> Result<T, SnapshotError>,
    ) -> Result<T, SnapshotError> {
        self.path.push(Seg::Key(names[field]));
        let value = read(self)?;
        self.path.pop();
        Ok(value)
    }

    fn required(&self, sym: Sym, name: &str) -> Result<Sym, SnapshotError> {
        if sym == NONE {
            return Err(self.fail_at(name, SnapshotProblem::Missing));
        }
        Ok(sym)
    }

    fn document(&mut self) -> Result<(), SnapshotError> {
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
                _ => l.each(Self::idp_link),
            })?;
        }
        if seen & 1 == 0 {
            return Err(self.fail_at("version", SnapshotProblem::Missing));
        }
        self.r.finish().map_err(|e| self.syntax(e))
    }

    fn version(&mut self) -> Result<(), SnapshotError> {
        if self.peek()? != Kind::Number {
            return Err(self.wrong_type("the number 1"));
        }
        let text = self.r.read_number().map_err(|e| self.syntax(e))?;
        if parse_uint(text, u64::MAX) != Ok(1) {
            return Err(self.fail(SnapshotProblem::Version { found: text.to_owned() }));
        }
        Ok(())
    }

    fn sequence(&mut self) -> Result<(), SnapshotError> {
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

    fn timestamp(&mut self) -> Result<(), SnapshotError> {
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
    fn unique(&self, by_sym: &mut Vec<u32>, sym: Sym, row: usize) -> Result<(), SnapshotError> {
        let i = sym as usize;
        if by_sym.len() <= i {
            by_sym.resize(self.raw.strings.len().max(i + 1), NONE);
        }
        if by_sym[i] != NONE {
            let id = self.raw.strings.get(sym).to_owned();
            return Err(self.fail_at("id", SnapshotProblem::DuplicateId { id, first: by_sym[i] as usize }));
        }
        by_sym[i] = u32::try_from(row).map_err(|_| self.fail(SnapshotProblem::Capacity))?;
        Ok(())
    }

    fn user(&mut self, row: usize) -> Result<(), SnapshotError> {
        self.begin_object()?;
        let (mut seen, mut v) = (0, [NONE; 4]);
        while let Some(f) = self.next_field(USER, &mut seen)? {
            v[f] =
                self.field(USER, f, |l| if f == 0 { l.string(true) } else { l.nullable(false, "a string or null") })?;
        }
        let id = self.required(v[0], "id")?;
        let mut by_sym = std::mem::take(&mut self.raw.user_by_sym);
        let unique = self.unique(&mut by_sym, id, row);
        self.raw.user_by_sym = by_sym;
        unique?;
        self.raw.user_id.push(id);
        self.raw.user_first.push(v[1]);
        self.raw.user_last.push(v[2]);
        self.raw.user_org.push(v[3]);
        Ok(())
    }

    fn group(&mut self, row: usize) -> Result<(), SnapshotError> {
        self.begin_object()?;
        let (mut seen, mut v) = (0, [NONE; 2]);
        while let Some(f) = self.next_field(GROUP, &mut seen)? {
            v[f] =
                self.field(GROUP, f, |l| if f == 0 { l.string(true) } else { l.nullable(false, "a string or null") })?;
        }
        let id = self.required(v[0], "id")?;
        let mut by_sym = std::mem::take(&mut self.raw.group_by_sym);
        let unique = self.unique(&mut by_sym, id, row);
        self.raw.group_by_sym = by_sym;
        unique?;
        self.raw.group_id.push(id);
        self.raw.group_name.push(v[1]);
        Ok(())
    }

    fn membership(&mut self, _row: usize) -> Result<(), SnapshotError> {
        self.begin_object()?;
        let (mut seen, mut v) = (0, [NONE; 2]);
        while let Some(f) = self.next_field(MEMBERSHIP, &mut seen)? {
            v[f] = self.field(MEMBERSHIP, f, |l| l.string(true))?;
        }
        let pair = (self.required(v[0], "userId")?, self.required(v[1], "groupId")?);
        self.raw.memberships.push(pair);
        Ok(())
    }

    fn task(&mut self, row: usize) -> Result<(), SnapshotError> {
        self.begin_object()?;
        let (mut seen, mut v) = (0, [NONE; 3]);
        while let Some(f) = self.next_field(TASK, &mut seen)? {
            if f == 3 {
                self.field(TASK, f, |l| l.each(Self::identity_link))?;
            } else {
                v[f] =
                    self.field(
                        TASK,
                        f,
                        |l| {
                            if f == 0 {
                                l.string(true)
                            } else {
                                l.nullable(true, "a string or null")
                            }
                        },
                    )?;
            }
        }
        let id = self.required(v[0], "id")?;
        let mut by_sym = std::mem::take(&mut self.raw.task_by_sym);
        let unique = self.unique(&mut by_sym, id, row);
        self.raw.task_by_sym = by_sym;
        unique?;
        let tasks = &mut self.raw.tasks;
        tasks.id.push(id);
        tasks.assignee.push(v[1]);
        tasks.owner.push(v[2]);
        let end =
            u32::try_from(tasks.link_ref.len()).map_err(|_| SnapshotError::new("tasks", SnapshotProblem::Capacity))?;
        if tasks.links_at.is_empty() {
            tasks.links_at.push(0);
        }
        tasks.links_at.push(end);
        Ok(())
    }

    fn identity_link(&mut self, _row: usize) -> Result<(), SnapshotError> {
        self.begin_object()?;
        let (mut seen, mut v) = (0, [NONE; 3]);
        while let Some(f) = self.next_field(LINK, &mut seen)? {
            v[f] =
                self.field(LINK, f, |l| if f == 2 { l.string(true) } else { l.nullable(true, "a string or null") })?;
        }
        let kind = self.required(v[2], "type")?;
        let (reference, is_group) = match (v[0], v[1]) {
            (user, NONE) if user != NONE => (user, 0),
            (NONE, group) if group != NONE => (group, 1),
            _ => return Err(self.fail(SnapshotProblem::LinkIds)),
        };
        self.raw.tasks.link_ref.push(reference);
        self.raw.tasks.link_type.push(kind << 1 | is_group);
        Ok(())
    }

    fn idp_link(&mut self, _row: usize) -> Result<(), SnapshotError> {
        self.begin_object()?;
        let (mut seen, mut v) = (0, [NONE; 4]);
        while let Some(f) = self.next_field(IDP_LINK, &mut seen)? {
            v[f] = self.field(IDP_LINK, f, |l| l.string(f != 3))?;
        }
        self.raw.idp_user.push(self.required(v[0], "userId")?);
        self.raw.idp_id.push(self.required(v[1], "idpId")?);
        self.raw.idp_provided_id.push(self.required(v[2], "providedUserId")?);
        self.raw.idp_provided_name.push(self.required(v[3], "providedUserName")?);
        Ok(())
    }
}
