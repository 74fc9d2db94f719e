//! Where the followed changes go: a directory of sequenced files, and optionally a command run
//! with each file.
//!
//! The directory holds `NNNNNNNN.idl` (a whole snapshot: the base, and every corrective
//! re-base), `NNNNNNNN.delta` (the changes from the file before it), `manifest.json` (the base
//! and the latest file, replaced atomically after the file it names is complete) and
//! `status.json` (the lag, replaced every step). Every file is written beside its name and
//! renamed, so a reader never sees part of one.

use crate::output::replace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a published file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole snapshot (binary form).
    Snapshot,
    /// A delta from the file before it.
    Delta,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Snapshot => "idl",
            Kind::Delta => "delta",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Snapshot => "snapshot",
            Kind::Delta => "delta",
        }
    }
}

/// The directory and the command.
pub struct Sink {
    dir: PathBuf,
    command: Option<String>,
    base: Option<String>,
}

impl Sink {
    pub fn new(dir: &Path, command: Option<String>) -> Result<Sink, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("--out {}: {e}", dir.display()))?;
        Ok(Sink { dir: dir.to_owned(), command, base: None })
    }

    /// The sequence number to continue from: one after the manifest's latest (1 without one).
    pub fn next_sequence(&self) -> u64 {
        let Ok(text) = std::fs::read_to_string(self.dir.join("manifest.json")) else { return 1 };
        let Some(at) = text.find("\"latest\":") else { return 1 };
        let digits: String = text[at + 9..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u64>().map_or(1, |n| n + 1)
    }

    /// Writes file `sequence` of `kind`, then the manifest naming it, then runs the command with
    /// it; the file's path.
    pub fn publish(&mut self, sequence: u64, kind: Kind, bytes: &[u8], version: &str) -> Result<PathBuf, String> {
        let name = format!("{sequence:08}.{}", kind.extension());
        let path = self.dir.join(&name);
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
        if let Some(command) = &self.command {
            run(command, &path, sequence, kind, version)?;
        }
        Ok(path)
    }

    /// Replaces `status.json` with `text`.
    pub fn status(&self, text: &str) -> Result<(), String> {
        let path = self.dir.join("status.json");
        replace(&path, text.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))
    }
}

/// Runs `command` through `sh -c` with the file's path as its last argument (`"$1"` inside it is
/// the path too) and `IL_SEQUENCE`, `IL_KIND`, `IL_VERSION` in its environment; a non-zero exit
/// is an error naming the status.
fn run(command: &str, path: &Path, sequence: u64, kind: Kind, version: &str) -> Result<(), String> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("identity-links-export")
        .arg(path)
        .env("IL_SEQUENCE", sequence.to_string())
        .env("IL_KIND", kind.name())
        .env("IL_VERSION", version)
        .status()
        .map_err(|e| format!("--sink-command: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("--sink-command failed for {} ({status})", path.display()))
    }
}
