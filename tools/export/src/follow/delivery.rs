//! Where each published file goes besides the directory: a command (`--sink-command`) and/or an
//! HTTP PUT (`--sink-url`). Each destination keeps its own queue of the files it has not taken
//! yet, in sequence order: a destination that fails (the command exits non-zero, the server is
//! down or answers other than 2xx) is retried from the file it missed, with a backoff (1 s
//! doubling to 60 s), and receives every later file after it, so nothing is lost or reordered
//! while the follower runs: delivery is at least once (a file whose manifest PUT failed is sent
//! again), and a destination that keeps failing holds back every file after it (counted as
//! `undelivered` in `status.json`) rather than skip one.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::sink::Kind;

/// The longest wait between two attempts at a failing destination.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long connecting may take, and waiting for the answer once the body is sent (sending a
/// large base has no limit of its own: it takes what the link takes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// The environment variable whose value, when set, is sent as the PUTs' `Authorization` header
/// (so that a secret need not be on the command line, where `ps` shows it).
pub const AUTHORIZATION_ENV: &str = "IL_SINK_AUTHORIZATION";

/// A file written to the directory, as a destination receives it.
#[derive(Clone, Debug)]
pub struct Item {
    /// Its number in the directory.
    pub sequence: u64,
    /// A whole snapshot or a delta.
    pub kind: Kind,
    /// The file in the directory.
    pub path: PathBuf,
    /// Its name (`NNNNNNNN.idl` or `NNNNNNNN.delta`).
    pub name: String,
    /// The version the snapshot has after it.
    pub version: String,
    /// The manifest that names it (as the directory's `manifest.json` was after it).
    pub manifest: String,
    /// With a base: the bridge beside it (the delta from the file before it to the base).
    pub bridge: Option<PathBuf>,
}

/// What a destination is.
enum Target {
    /// `sh -c COMMAND` with the file's path as its last argument.
    Command(String),
    /// `PUT URL/NAME` with the file, then `PUT URL/manifest.json`.
    Put(Put),
}

/// An HTTP destination.
struct Put {
    agent: ureq::Agent,
    /// The URL the names are appended to (without a trailing slash).
    url: String,
    /// Headers sent with every request (`--sink-header`, the `Authorization` from the env).
    headers: Vec<(String, String)>,
}

/// One destination with the files it has still to take.
pub struct Destination {
    target: Target,
    unsent: VecDeque<Item>,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Destination {
    /// `--sink-command COMMAND`.
    pub fn command(command: String) -> Destination {
        Destination::new(Target::Command(command))
    }

    /// `--sink-url URL` with `--sink-header` lines (`Name: value`) and the `Authorization` of
    /// [`AUTHORIZATION_ENV`] when set; an error naming a bad URL or header (never a header's
    /// value, which may be a secret).
    pub fn put(url: &str, headers: &[String], authorization: Option<String>) -> Result<Destination, String> {
        let https = url.starts_with("https://");
        if !(url.starts_with("http://") || https) {
            return Err(format!("--sink-url {url}: not an http:// or https:// URL"));
        }
        if !cfg!(feature = "tls") && https {
            return Err(format!("--sink-url {url}: this build has no TLS (the `tls` feature)"));
        }
        if url.contains('?') || url.contains('#') {
            return Err(format!(
                "--sink-url {url}: the file's name is appended to it, so it cannot have a query or fragment"
            ));
        }
        let authority = url.split_once("://").map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
        if authority.contains('@') {
            return Err(format!(
                "--sink-url: a user or password in the URL would be printed with every failure: give the \
                 credentials in {AUTHORIZATION_ENV} (the Authorization header) instead"
            ));
        }
        let mut parsed = Vec::new();
        for line in headers {
            let Some((name, value)) = line.split_once(':') else {
                let shown = line.split([' ', '=']).next().unwrap_or("");
                return Err(format!("--sink-header {shown:?}...: not `Name: value`"));
            };
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
                return Err(format!("--sink-header {name:?}: not a header name"));
            }
            parsed.push((name.to_owned(), value.trim().to_owned()));
        }
        if let Some(value) = authorization {
            parsed.push(("authorization".to_owned(), value));
        }
        // A value must be visible ASCII (or spaces and tabs inside): no line breaks.
        for (name, value) in &parsed {
            if !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
                return Err(format!("--sink-header {name:?}: its value is not printable ASCII on one line"));
            }
        }
        // No redirects: a 301/302 would turn the PUT into a GET that answers 2xx, and the
        // headers would follow it elsewhere; a 3xx is a failure like any other non-2xx.
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(ANSWER_TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false);
        // The system's trust store (OpenSSL's, as libpq's): a sink behind a company CA works as
        // the databases do.
        #[cfg(feature = "tls")]
        let config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        );
        let agent = ureq::Agent::new_with_config(config.build());
        Ok(Destination::new(Target::Put(Put { agent, url: url.trim_end_matches('/').to_owned(), headers: parsed })))
    }

    fn new(target: Target) -> Destination {
        Destination { target, unsent: VecDeque::new(), failures: 0, retry_at: None }
    }

    /// Queues `item` behind the files this destination has not taken yet.
    pub fn push(&mut self, item: Item) {
        self.unsent.push_back(item);
    }

    /// The number of the first file this destination has not taken yet, if any.
    pub fn first_pending(&self) -> Option<u64> {
        self.unsent.front().map(|item| item.sequence)
    }

    /// How many files this destination has not taken yet.
    pub fn pending(&self) -> usize {
        self.unsent.len()
    }

    /// Sends the queued files in order, up to the first that fails (unless a failure's backoff
    /// is not over): that failure, naming the file and the destination.
    pub fn deliver(&mut self) -> Result<(), String> {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return Ok(());
        }
        while let Some(item) = self.unsent.front() {
            let sent = match &self.target {
                Target::Command(command) => run(command, item),
                Target::Put(put) => put.send(item),
            };
            if let Err(e) = sent {
                self.failures += 1;
                let wait = Duration::from_secs(1u64 << (self.failures - 1).min(6)).min(MAX_BACKOFF);
                self.retry_at = Some(Instant::now() + wait);
                return Err(format!(
                    "{e}; {} file(s) waiting, next attempt in {} s",
                    self.unsent.len(),
                    wait.as_secs()
                ));
            }
            self.unsent.pop_front();
            self.failures = 0;
            self.retry_at = None;
        }
        Ok(())
    }
}

impl Put {
    /// The bridge, if any, then the file, then the manifest naming it.
    fn send(&self, item: &Item) -> Result<(), String> {
        let read =
            |path: &Path| std::fs::read(path).map_err(|e| format!("--sink-url: reading {}: {e}", path.display()));
        if let Some(bridge) = &item.bridge {
            let name = bridge.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let extra = [
                ("content-type", "application/octet-stream"),
                ("x-identity-links-sequence", &item.sequence.to_string()),
                ("x-identity-links-kind", "bridge"),
                ("x-identity-links-version", &item.version),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()));
            self.put(&format!("{}/{name}", self.url), &read(bridge)?, &extra)?;
        }
        let bytes = read(&item.path)?;
        let file_url = format!("{}/{}", self.url, item.name);
        let extra = [
            ("content-type", "application/octet-stream"),
            ("x-identity-links-sequence", &item.sequence.to_string()),
            ("x-identity-links-kind", item.kind.name()),
            ("x-identity-links-version", &item.version),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        self.put(&file_url, &bytes, &extra)?;
        let manifest_url = format!("{}/manifest.json", self.url);
        self.put(&manifest_url, item.manifest.as_bytes(), &[("content-type".to_owned(), "application/json".to_owned())])
    }

    fn put(&self, url: &str, body: &[u8], extra: &[(String, String)]) -> Result<(), String> {
        let mut request = self.agent.put(url);
        for (name, value) in extra.iter().chain(&self.headers) {
            request = request.header(name, value);
        }
        match request.send(body) {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("--sink-url: PUT {url} answered {}", response.status())),
            Err(e) => Err(format!("--sink-url: PUT {url}: {e}")),
        }
    }
}

/// Runs `command` through `sh -c` with the file's path as its last argument (`"$1"` inside it is
/// the path too) and `IL_SEQUENCE`, `IL_KIND`, `IL_VERSION` (and `IL_BRIDGE`, the bridge's path,
/// with a base that has one) in its environment; a non-zero exit is an error naming the status.
fn run(command: &str, item: &Item) -> Result<(), String> {
    let path: &Path = &item.path;
    let mut run = Command::new("sh");
    run.arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("identity-links-export")
        .arg(path)
        .env("IL_SEQUENCE", item.sequence.to_string())
        .env("IL_KIND", item.kind.name())
        .env("IL_VERSION", &item.version)
        .env_remove("IL_BRIDGE")
        .env_remove(AUTHORIZATION_ENV); // the PUT's secret is not the command's
    if let Some(bridge) = &item.bridge {
        run.env("IL_BRIDGE", bridge);
    }
    let status = run.status().map_err(|e| format!("--sink-command: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("--sink-command failed for {} ({status})", path.display()))
    }
}
