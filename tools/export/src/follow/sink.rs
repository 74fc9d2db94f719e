//! Where the followed changes go: a directory of sequenced files, and from it to the
//! destinations of [`super::delivery`] (a command, an HTTP PUT).
//!
//! The directory holds `NNNNNNNN.idl` (a whole snapshot: the base, and every corrective
//! re-base), `NNNNNNNN.delta` (the changes from the file before it), `NNNNNNNN.bridge` beside a
//! base published by `--rebase-after` (the delta from the file before it to the base, for the
//! consumers already at that state: decision 0017), `manifest.json` (the base and the latest
//! file, replaced atomically after the file it names is complete) and `status.json` (the lag,
//! replaced every step). Every file is written beside its name and
//! renamed, so a reader never sees part of one.

use super::delivery::{Destination, Item};
use crate::output::replace;
use std::path::{Path, PathBuf};

/// What a published file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole snapshot (binary form).
    Snapshot,
    /// A delta from the file before it.
    Delta,
}

/// The name of file `sequence` of `kind` in the directory (`NNNNNNNN.idl`, `NNNNNNNN.delta`).
pub fn file_name(sequence: u64, kind: Kind) -> String {
    format!("{sequence:08}.{}", kind.extension())
}

/// The name of the bridge beside base `sequence` (`NNNNNNNN.bridge`).
pub fn bridge_name(sequence: u64) -> String {
    format!("{sequence:08}.bridge")
}

/// The number a directory entry's name says, and whether it is a base, if it is one of the
/// sequenced files (a bridge goes with its base's number).
fn parse_file_name(name: &str) -> Option<(u64, bool)> {
    let (number, extension) = name.split_once('.')?;
    if !["idl", "delta", "bridge"].contains(&extension) || number.len() != 8 {
        return None;
    }
    Some((number.parse().ok()?, extension == Kind::Snapshot.extension()))
}

/// The text of `key` in a manifest this exporter wrote (a string's or a number's characters).
pub fn manifest_field(manifest: &str, key: &str) -> Option<String> {
    let at = manifest.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = manifest[at..].trim_start_matches('"');
    Some(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect())
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Snapshot => "idl",
            Kind::Delta => "delta",
        }
    }
    /// How the manifest, the command's `IL_KIND` and the PUT's header name it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Snapshot => "snapshot",
            Kind::Delta => "delta",
        }
    }
}

/// The directory and the destinations each file goes to besides it.
pub struct Sink {
    dir: PathBuf,
    destinations: Vec<Destination>,
    base: Option<String>,
}

impl Sink {
    pub fn new(dir: &Path, destinations: Vec<Destination>) -> Result<Sink, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("--out {}: {e}", dir.display()))?;
        Ok(Sink { dir: dir.to_owned(), destinations, base: None })
    }

    /// The sequence number to continue from: one after the manifest's latest (1 without one).
    pub fn next_sequence(&self) -> u64 {
        let Ok(text) = std::fs::read_to_string(self.dir.join("manifest.json")) else { return 1 };
        manifest_field(&text, "latest").and_then(|l| l.parse::<u64>().ok()).map_or(1, |n| n + 1)
    }

    /// Writes file `sequence` of `kind` (a base with its `bridge`, if any, beside it), then the
    /// manifest naming it, and queues it for every destination; the file's path. Only the
    /// directory's errors are returned: the destinations are sent to by [`Sink::deliver`].
    pub fn publish(
        &mut self,
        sequence: u64,
        kind: Kind,
        bytes: &[u8],
        version: &str,
        bridge: Option<&[u8]>,
    ) -> Result<PathBuf, String> {
        let name = file_name(sequence, kind);
        let path = self.dir.join(&name);
        let bridge_path = self.dir.join(bridge_name(sequence));
        let bridge = match bridge {
            Some(delta) => {
                replace(&bridge_path, delta).map_err(|e| format!("writing {}: {e}", bridge_path.display()))?;
                Some(bridge_path)
            }
            None => {
                // One left from a publication of this number that did not complete (the
                // exporter restarted): not this file's.
                match std::fs::remove_file(&bridge_path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(format!("removing {}: {e}", bridge_path.display()))
                    }
                    _ => None,
                }
            }
        };
        replace(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
        if kind == Kind::Snapshot {
            self.base = Some(name.clone());
        }
        let base = self.base.clone().unwrap_or_default();
        let manifest = format!(
            "{{\"base\":\"{base}\",\"latest\":{sequence},\"file\":\"{name}\",\"kind\":\"{}\",\"version\":\"{version}\"}}\n",
            kind.name()
        );
        let manifest_path = self.dir.join("manifest.json");
        replace(&manifest_path, manifest.as_bytes())
            .map_err(|e| format!("writing {}: {e}", manifest_path.display()))?;
        let item = Item { sequence, kind, path: path.clone(), name, version: version.to_owned(), manifest, bridge };
        for destination in &mut self.destinations {
            destination.push(item.clone());
        }
        Ok(path)
    }

    /// Sends every destination the files it has not taken yet, in order; the failures (each
    /// destination is retried from its first missing file at a later call, after a backoff).
    pub fn deliver(&mut self) -> Vec<String> {
        self.destinations.iter_mut().filter_map(|d| d.deliver().err()).collect()
    }

    /// Removes the files numbered before the `keep`-th newest base (`keep` 0: none), except those
    /// a destination has still to take and the base before them; how many it removed. A reader of the directory starts
    /// from the manifest's base, so nothing it reads goes.
    pub fn prune(&mut self, keep: usize) -> Result<usize, String> {
        if keep == 0 {
            return Ok(0);
        }
        let listed = std::fs::read_dir(&self.dir).map_err(|e| format!("listing {}: {e}", self.dir.display()))?;
        let files: Vec<(u64, bool, PathBuf)> = listed
            .flatten()
            .filter_map(|entry| {
                parse_file_name(&entry.file_name().to_string_lossy()).map(|(n, base)| (n, base, entry.path()))
            })
            .collect();
        let mut bases: Vec<u64> = files.iter().filter(|f| f.1).map(|f| f.0).collect();
        bases.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&oldest_kept) = bases.get(keep - 1) else { return Ok(0) };
        // A file a destination has still to take stays, with the base before it (a sink may
        // need the base to make sense of a delta: publish.mjs materializes from it).
        let waiting = self.destinations.iter().filter_map(Destination::first_pending).min();
        let base_of = |w: u64| bases.iter().copied().find(|&b| b <= w).unwrap_or(0);
        let before = waiting.map_or(oldest_kept, |w| base_of(w).min(oldest_kept));
        let mut removed = 0;
        for (sequence, _, path) in files {
            if sequence < before {
                std::fs::remove_file(&path).map_err(|e| format!("removing {}: {e}", path.display()))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// How many files the destinations have still to take, in all.
    pub fn undelivered(&self) -> usize {
        self.destinations.iter().map(Destination::pending).sum()
    }

    /// Replaces `status.json` with `text`.
    pub fn status(&self, text: &str) -> Result<(), String> {
        let path = self.dir.join("status.json");
        replace(&path, text.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_has_its_bridge_beside_it_and_no_other() {
        let dir = std::env::temp_dir().join(format!("identity-links-sink-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut sink = Sink::new(&dir, Vec::new()).expect("the directory");
        sink.publish(1, Kind::Snapshot, b"base", "v1", Some(b"bridge")).expect("published");
        assert_eq!(std::fs::read(dir.join("00000001.bridge")).expect("the bridge"), b"bridge");
        // The same number published again without one (a restart after a write failed): the
        // bridge left from the first attempt is not this base's.
        sink.publish(1, Kind::Snapshot, b"base", "v1", None).expect("published");
        assert!(!dir.join("00000001.bridge").exists(), "a stale bridge removed");
        sink.publish(2, Kind::Delta, b"delta", "v2", None).expect("published");
        assert_eq!(parse_file_name("00000001.bridge"), Some((1, false)));
        assert_eq!(parse_file_name("00000001.idl"), Some((1, true)));
        assert_eq!(parse_file_name("status.json"), None);
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
