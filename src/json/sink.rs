//! Where the query writers put a JSON answer: bytes (the HTTP body, `Vec<u8>`), or any other
//! [`JsonSink`] that keeps the answer's strings apart from its syntax — so that a reader who
//! has seen a string before need not be sent it again (the wasm facade's pieces).

use identity_links_text::escape::{escape, write_str};

/// A text made for an answer that is the same every time for a snapshot, named so that a sink
/// may keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// `sequence`, as uint64 JSON text.
    Sequence,
    /// `timestamp`, as protojson renders it.
    Timestamp,
    /// The `displayName` of a user row made of its names.
    DisplayName(u32),
}

/// A text written in parts: called with a function that takes each part in turn.
pub type Parts<'a> = &'a dyn Fn(&mut dyn FnMut(&str));

/// The receiver of a JSON answer, in order: syntax, and strings by kind.
pub trait JsonSink {
    /// JSON syntax (and numbers, `null`), as it is. Always a `'static` literal, so that a sink
    /// may refer to it rather than copy it.
    fn raw(&mut self, json: &'static [u8]);
    /// The string of the snapshot's symbol `sym`, quoted (`text` is empty for a sink that
    /// [`JsonSink::by_symbol`]).
    fn sym(&mut self, sym: u32, text: &str);

    /// Whether the sink keeps strings by symbol and needs no text for them (so the writers
    /// need not look it up).
    fn by_symbol(&self) -> bool {
        false
    }
    /// Any other string, quoted.
    fn text(&mut self, text: &str);
    /// A string that is the same whenever `kept` is, quoted: `write` writes its parts (called
    /// only by a sink that needs the text now).
    fn kept(&mut self, kept: Kept, write: Parts);

    /// `,` before every item but the first (`index` 0).
    fn comma(&mut self, index: usize) {
        if index > 0 {
            self.raw(b",");
        }
    }
}

impl JsonSink for Vec<u8> {
    fn raw(&mut self, json: &'static [u8]) {
        self.extend_from_slice(json);
    }

    fn sym(&mut self, _: u32, text: &str) {
        write_str(self, text);
    }

    fn text(&mut self, text: &str) {
        write_str(self, text);
    }

    fn kept(&mut self, _: Kept, write: Parts) {
        self.push(b'"');
        write(&mut |part| escape(self, part));
        self.push(b'"');
    }
}
