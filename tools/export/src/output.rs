//! Where the snapshot goes: a file, replaced atomically (written beside it, then renamed, so a
//! reader sees the old file or the new one, never part of one), or standard output.

use identity_links::Snapshot;
use identity_links_text::timestamp::Timestamp;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Canonical JSON (`Snapshot.fromJson`).
    Json,
    /// The binary form (`Snapshot.fromBytes`, `fromStream`).
    Binary,
}

/// The destination and its format.
pub struct Output {
    path: Option<PathBuf>,
    format: Format,
}

impl Output {
    /// `out` (`-` for standard output) in `format`, or the format its extension names: `.json`
    /// is JSON, anything else the binary form. Standard output needs `--format`.
    pub fn new(out: &str, format: Option<Format>) -> Result<Output, String> {
        if out == "-" {
            let format = format.ok_or("--out - (standard output) needs --format json or --format binary")?;
            return Ok(Output { path: None, format });
        }
        let path = PathBuf::from(out);
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let format = format.unwrap_or(if json { Format::Json } else { Format::Binary });
        if path.file_name().is_none() {
            return Err(format!("--out {out}: not a file name"));
        }
        Ok(Output { path: Some(path), format })
    }

    pub fn is_stdout(&self) -> bool {
        self.path.is_none()
    }

    /// The snapshot's bytes in this format.
    pub fn encode(&self, snapshot: &Snapshot) -> Vec<u8> {
        match self.format {
            Format::Json => snapshot.to_json().into_bytes(),
            Format::Binary => snapshot.to_bytes(),
        }
    }

    /// Writes `bytes` unless the file holds them already; whether it wrote.
    pub fn write_if_changed(&self, bytes: &[u8]) -> Result<bool, String> {
        let Some(path) = &self.path else {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| format!("writing to standard output: {e}"))?;
            return Ok(true);
        };
        if fs::read(path).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
        replace(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(true)
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it over
/// `path`; on failure the temporary file is removed and `path` is untouched.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// The current time, UTC, RFC 3339 to the second (for the lines `--watch` prints).
pub fn now() -> String {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    Timestamp { seconds, nanos: 0 }.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_extension_unless_given() {
        assert_eq!(Output::new("s.json", None).map(|o| o.format), Ok(Format::Json));
        assert_eq!(Output::new("s.JSON", None).map(|o| o.format), Ok(Format::Json));
        assert_eq!(Output::new("s.idl", None).map(|o| o.format), Ok(Format::Binary));
        assert_eq!(Output::new("s.json", Some(Format::Binary)).map(|o| o.format), Ok(Format::Binary));
        assert!(Output::new("-", None).is_err());
        assert_eq!(Output::new("-", Some(Format::Json)).map(|o| o.is_stdout()), Ok(true));
    }

    #[test]
    fn a_file_is_replaced_whole_and_only_when_it_changed() {
        let dir = std::env::temp_dir().join(format!("identity-links-export-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join("s.idl");
        let out = Output::new(path.to_str().expect("a UTF-8 path"), None).expect("an output");
        assert_eq!(out.write_if_changed(b"one"), Ok(true));
        assert_eq!(out.write_if_changed(b"one"), Ok(false));
        assert_eq!(out.write_if_changed(b"two"), Ok(true));
        assert_eq!(fs::read(&path).expect("the file"), b"two");
        let left: Vec<_> = fs::read_dir(&dir).expect("the directory").collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
