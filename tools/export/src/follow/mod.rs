//! `--follow`: the databases followed, each change published within a step of its commit.
//!
//! The exporter keeps the followed state in memory ([`model::Model`]: every row by its key), and
//! each step re-reads into it only the keys that changed ([`camunda`], [`zitadel`] say how each
//! source names them), renders the whole state into the document the one-shot export writes
//! ([`render`]: the sections whose rows did not change are copied) and loads it with the core's
//! loader. The new snapshot is published as a delta from the previous one ([`sink`]); a step
//! that changed nothing publishes nothing. Every `--reconcile-every` seconds the state is read
//! afresh, whole: if it differs from the followed one (a change that no fingerprint or event
//! named), the difference is published as a corrective delta and the fresh state followed from
//! then on; if they agree, nothing is published.

pub mod camunda;
pub mod delivery;
pub mod model;
pub mod render;
pub mod sink;
pub mod wal;
pub mod zitadel;

use crate::db::Tls;
use crate::output;
use identity_links::{Limits, Snapshot, Version};
use identity_links_text::timestamp::Timestamp;
use model::Model;
use render::Renderer;
use sink::{Kind, Sink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What `--follow` needs from the command line.
pub struct Options {
    pub camunda: Option<String>,
    pub zitadel: Option<String>,
    pub tls: Tls,
    pub tenant: Option<String>,
    /// `--wal-slot`: Camunda's changes read from this logical replication slot.
    pub wal_slot: Option<String>,
    /// `--wal-batch`: the most changes one step reads from the slot.
    pub wal_batch: i32,
    pub zitadel_instance: Option<String>,
    pub zitadel_details: crate::zitadel::Details,
    pub authorization_enabled: bool,
    pub dir: PathBuf,
    /// `--sink-command`.
    pub command: Option<String>,
    /// `--sink-url`.
    pub url: Option<String>,
    /// `--sink-header` lines (`Name: value`).
    pub headers: Vec<String>,
    pub poll: Duration,
    pub overlap: Duration,
    pub reconcile_every: Option<Duration>,
    /// After this many deltas since the last base, the next change is published as a base
    /// (`--rebase-after`; 0: never).
    pub rebase_after: u64,
    /// A change is published as a base when the published state's binary form, or the one the
    /// change makes, is over this many bytes (`--rebase-above-bytes`; 0: never).
    pub rebase_above_bytes: u64,
    /// How many bases (each with the deltas after it) the directory keeps (`--keep-bases`; 0:
    /// every file).
    pub keep_bases: usize,
    /// Stop after this many steps (tests); none: run until killed.
    pub steps: Option<u64>,
}

/// The sources being followed.
struct Sources {
    camunda: Option<camunda::Source>,
    zitadel: Option<zitadel::Source>,
}

/// A flag for each source: which to read afresh, whole, or to connect to again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Each {
    camunda: bool,
    zitadel: bool,
}

impl Each {
    const BOTH: Each = Each { camunda: true, zitadel: true };
    const NEITHER: Each = Each { camunda: false, zitadel: false };

    fn any(self) -> bool {
        self.camunda || self.zitadel
    }

    /// The sources either names.
    fn and(self, other: Each) -> Each {
        Each { camunda: self.camunda || other.camunda, zitadel: self.zitadel || other.zitadel }
    }

    /// The sources set, by name, for the log (`-`: none).
    fn names(self) -> String {
        match (self.camunda, self.zitadel) {
            (true, true) => "camunda,zitadel".to_owned(),
            (true, false) => "camunda".to_owned(),
            (false, true) => "zitadel".to_owned(),
            (false, false) => "-".to_owned(),
        }
    }
}

/// A source's step that failed: which source, and why.
struct Failed {
    /// The source that failed; those before it in the step (Camunda, then Zitadel) completed.
    source: Each,
    error: String,
}

impl Sources {
    /// Connects to every source.
    fn connect(o: &Options) -> Result<Sources, String> {
        let (mut sources, mut all) = (Sources { camunda: None, zitadel: None }, Each::BOTH);
        sources.reconnect(o, &mut all)?;
        Ok(sources)
    }

    /// Connects again to the sources `broken` names, clearing each flag as its source connects
    /// (the others are kept; Zitadel's cursor goes on from where it was).
    fn reconnect(&mut self, o: &Options, broken: &mut Each) -> Result<(), String> {
        if broken.camunda {
            if let Some(url) = &o.camunda {
                let slot = o.wal_slot.as_ref().map(|name| wal::Slot { name: name.clone(), batch: o.wal_batch });
                self.camunda = Some(camunda::Source::connect(url, &o.tls, o.tenant.as_deref(), slot)?);
            }
            broken.camunda = false;
        }
        if broken.zitadel {
            if let Some(url) = &o.zitadel {
                let details = o.zitadel_details;
                let mut source =
                    zitadel::Source::connect(url, &o.tls, o.zitadel_instance.as_deref(), details, o.overlap)?;
                if let Some(before) = &self.zitadel {
                    source.cursor = before.cursor.clone();
                }
                self.zitadel = Some(source);
            }
            broken.zitadel = false;
        }
        Ok(())
    }

    /// One step of every source into `m` (those `full` names: every key, their state read
    /// afresh); what it found, or the source that failed.
    fn step(&mut self, m: &mut Model, full: Each) -> Result<Found, Failed> {
        let mut found = Found::default();
        if let Some(source) = &mut self.camunda {
            let state = m.camunda.get_or_insert_with(Default::default);
            if full.camunda {
                *state = Default::default();
            }
            let failed = |error| Failed { source: Each { camunda: true, zitadel: false }, error };
            match source.step(state).map_err(failed)? {
                Some(changed) => found.changed += changed,
                None => found.quiet.push("camunda"),
            }
        }
        if let Some(source) = &mut self.zitadel {
            let state = m.zitadel.get_or_insert_with(Default::default);
            let failed = |error| Failed { source: Each { camunda: false, zitadel: true }, error };
            match source.step(state, full.zitadel).map_err(failed)? {
                Some(step) => {
                    found.changed += step.changed;
                    found.newest_event = step.newest_event;
                }
                None => found.quiet.push("zitadel"),
            }
            found.cursor = source.cursor.position.clone();
        }
        Ok(found)
    }
}

#[derive(Default)]
struct Found {
    changed: usize,
    newest_event: Option<String>,
    cursor: Option<String>,
    /// The sources not read: no transaction had ended since they were last read.
    quiet: Vec<&'static str>,
}

/// The snapshot of `m`, or the loader's refusal; with the milliseconds spent rendering its
/// document (the rest went to loading it). The document is cut in two halves (by the last
/// one's size) read on two threads ([`crate::parts`]): at 1M links, ~0.6 s on one.
fn build(renderer: &mut Renderer, m: &mut Model) -> (Result<Snapshot, String>, f64) {
    let started = Instant::now();
    let (first, second) = renderer.render_halves(m);
    let render_ms = started.elapsed().as_secs_f64() * 1e3;
    let loaded = match second.is_empty() {
        true => crate::document::load(first),
        false => crate::parts::load_parts(first, second),
    };
    renderer.forget_written(m);
    (loaded, render_ms)
}

/// What the follower runs with, for its first log line: the settings with defaults an operator
/// may not have written (`--poll-ms` depends on `--wal-slot`).
fn settings(o: &Options) -> String {
    let secs = |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{}s", d.as_secs_f64()));
    format!(
        "poll_ms={} wal_slot={} overlap={} reconcile_every={} rebase_after={} rebase_above_bytes={} keep_bases={}",
        o.poll.as_millis(),
        o.wal_slot.as_deref().unwrap_or("-"),
        secs(Some(o.overlap)),
        secs(o.reconcile_every),
        o.rebase_after,
        o.rebase_above_bytes,
        o.keep_bases,
    )
}

/// Milliseconds from `timestamp` (RFC 3339) to now; none if it does not parse.
fn age_ms(timestamp: &str) -> Option<i64> {
    let t = Timestamp::parse(timestamp).ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let then_ms = t.seconds * 1000 + i64::from(t.nanos / 1_000_000);
    Some(now.as_millis() as i64 - then_ms)
}

/// The destinations `o` names (the command first), or the error naming a bad URL or header.
pub fn destinations(o: &Options) -> Result<Vec<delivery::Destination>, String> {
    let mut out = Vec::new();
    if let Some(command) = &o.command {
        out.push(delivery::Destination::command(command.clone()));
    }
    if let Some(url) = &o.url {
        let authorization = std::env::var(delivery::AUTHORIZATION_ENV).ok().filter(|v| !v.is_empty());
        out.push(delivery::Destination::put(url, &o.headers, authorization)?);
    }
    Ok(out)
}

/// Sends the destinations what they have not taken yet; logs each failure.
fn deliver(sink: &mut Sink) {
    for e in sink.deliver() {
        eprintln!("{} follow error: {e}", output::now());
    }
}

/// Runs `--follow` until killed (or `steps` steps); an error only when it cannot start.
pub fn run(o: &Options) -> Result<(), String> {
    eprintln!("{} follow start {}", output::now(), settings(o));
    let mut sink = Sink::new(&o.dir, destinations(o)?)?;
    let mut sources = Sources::connect(o)?;
    let mut model = Model { authorization_enabled: o.authorization_enabled, ..Model::default() };
    let started = Instant::now();
    sources.step(&mut model, Each::BOTH).map_err(|failed| failed.error)?;
    let mut renderer = Renderer::default();
    let mut current = build(&mut renderer, &mut model).0?;
    // The published state's version (equal versions, equal binary forms: docs/deltas.md), so a
    // step compares versions rather than holding the binary form beside the snapshot.
    let mut current_version = current.version();
    let bytes = current.to_bytes();
    let mut sequence = sink.next_sequence();
    sink.publish(sequence, Kind::Snapshot, &bytes, &current_version.to_string(), None)?;
    eprintln!(
        "{} follow seq={sequence} kind=snapshot bytes={} ms={:.0}",
        output::now(),
        bytes.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    drop(bytes);
    deliver(&mut sink);
    prune(&mut sink, o.keep_bases);
    let mut deltas_since_base = 0u64;
    let mut last_reconcile = Instant::now();
    let mut steps = 0u64;
    // The sources to connect to again: those whose step failed.
    let mut broken = Each::NEITHER;
    // A change whose file could not be written to the directory: built and published again.
    let mut unpublished = false;
    // A source's step that failed may have changed part of its followed state (rows removed and
    // not read again, a gate or a slot's place kept for rows not read, Zitadel's cursor moved on):
    // the next step reads that source afresh, whole, as a reconcile does, and publishes what
    // differs from the published state. A source whose step completed before the failure (the
    // sources step in turn, Camunda first) keeps its state.
    let mut afresh = Each::NEITHER;
    loop {
        if o.steps.is_some_and(|n| steps >= n) {
            return Ok(());
        }
        std::thread::sleep(o.poll);
        steps += 1;
        let step_started = Instant::now();
        if broken.any() {
            if let Err(e) = sources.reconnect(o, &mut broken) {
                eprintln!("{} follow error: {e}", output::now());
                continue;
            }
        }
        let reconcile = o.reconcile_every.is_some_and(|every| last_reconcile.elapsed() >= every);
        let after_error = afresh;
        let (found, next_model) = if reconcile {
            last_reconcile = Instant::now();
            let mut fresh = Model { authorization_enabled: o.authorization_enabled, ..Model::default() };
            match sources.step(&mut fresh, Each::BOTH) {
                Ok(found) => {
                    afresh = Each::NEITHER;
                    (found, Some(fresh))
                }
                Err(failed) => {
                    // The followed state is untouched, but not every source's place is: Zitadel's
                    // cursor has moved on once its events are read, whatever fails after. So a
                    // reconcile that fails is read again whole, as any failed step.
                    eprintln!(
                        "{} follow error: {} (the next step reads everything afresh)",
                        output::now(),
                        failed.error
                    );
                    broken = broken.and(failed.source);
                    afresh = Each::BOTH;
                    continue;
                }
            }
        } else {
            match sources.step(&mut model, afresh) {
                Ok(found) => {
                    afresh = Each::NEITHER;
                    (found, None)
                }
                Err(failed) => {
                    let name = if failed.source.camunda { "Camunda" } else { "Zitadel" };
                    eprintln!("{} follow error: {} (the next step reads {name} afresh)", output::now(), failed.error);
                    broken = broken.and(failed.source);
                    // Camunda steps first: when Zitadel failed, Camunda's step (afresh or not) is done.
                    afresh = if failed.source.camunda { afresh.and(failed.source) } else { failed.source };
                    continue;
                }
            }
        };
        let read_ms = step_started.elapsed().as_secs_f64() * 1e3;
        if let Some(fresh) = next_model {
            model = fresh;
        }
        // Where a step's time goes after reading: rendering and loading the state (of which
        // rendering), and making and writing what is published (the log line's build_ms, its
        // render_ms, and publish_ms).
        let (mut render_ms, mut build_ms, mut publish_ms) = (0.0, 0.0, 0.0);
        let outcome = if found.changed == 0 && !reconcile && !after_error.any() && !unpublished {
            "unchanged".to_owned()
        } else {
            let build_started = Instant::now();
            let built;
            (built, render_ms) = build(&mut renderer, &mut model);
            build_ms = build_started.elapsed().as_secs_f64() * 1e3;
            let publish_started = Instant::now();
            let outcome = match built {
                Err(e) => format!("refused ({e})"),
                Ok(next) => {
                    let next_version = next.version();
                    if next_version == current_version {
                        unpublished = false; // back to the published state: nothing to publish
                        if reconcile {
                            "reconciled-agrees".to_owned()
                        } else {
                            "unchanged".to_owned()
                        }
                    } else {
                        // Written to the directory, the step is the new state; not written (a
                        // full disk), the next step builds it again and publishes it then.
                        let sizes = [current.binary_len(), next.binary_len()].map(|n| n as u64);
                        let rebase = rebase_reason(o, sizes, deltas_since_base);
                        let (from, to) = ((&current, current_version), (&next, next_version));
                        match publish_step(&mut sink, sequence + 1, from, to, rebase) {
                            Ok(kind) => {
                                deltas_since_base = if rebase.is_some() { 0 } else { deltas_since_base + 1 };
                                (sequence, current, current_version, unpublished) =
                                    (sequence + 1, next, next_version, false);
                                if rebase.is_some() {
                                    prune(&mut sink, o.keep_bases);
                                }
                                if after_error.any() {
                                    format!("{kind} (read afresh after an error: {})", after_error.names())
                                } else if reconcile {
                                    format!("{kind} (reconcile corrected the followed state)")
                                } else {
                                    kind
                                }
                            }
                            Err(e) => {
                                unpublished = true;
                                format!("publish failed, retried next step ({e})")
                            }
                        }
                    }
                }
            };
            publish_ms = publish_started.elapsed().as_secs_f64() * 1e3;
            outcome
        };
        deliver(&mut sink);
        let lag = found.newest_event.as_deref().and_then(age_ms);
        let line = format!(
            "{} follow seq={sequence} {outcome} changed={} quiet={} afresh={} cursor={} event={} lag_ms={} read_ms={read_ms:.1} render_ms={render_ms:.1} build_ms={build_ms:.1} publish_ms={publish_ms:.1} ms={:.1}",
            output::now(),
            found.changed,
            if found.quiet.is_empty() { "-".to_owned() } else { found.quiet.join(",") },
            if reconcile { Each::BOTH.names() } else { after_error.names() },
            found.cursor.as_deref().unwrap_or("-"),
            found.newest_event.as_deref().unwrap_or("-"),
            lag.map_or("-".to_owned(), |l| l.to_string()),
            step_started.elapsed().as_secs_f64() * 1e3,
        );
        eprintln!("{line}");
        let status = format!(
            "{{\"sequence\":{sequence},\"version\":\"{}\",\"checkedAt\":\"{}\",\"cursor\":{},\"newestEvent\":{},\"lagMs\":{},\"stepMs\":{:.1},\"undelivered\":{}}}\n",
            current_version,
            output::now(),
            found.cursor.as_deref().map_or("null".to_owned(), |c| format!("\"{c}\"")),
            found.newest_event.as_deref().map_or("null".to_owned(), |c| format!("\"{c}\"")),
            lag.map_or("null".to_owned(), |l| l.to_string()),
            step_started.elapsed().as_secs_f64() * 1e3,
            sink.undelivered(),
        );
        if let Err(e) = sink.status(&status) {
            eprintln!("{} follow error: {e}", output::now());
        }
    }
}

/// The option that makes the next change a base, if one does: `sizes` are the binary forms' of
/// the published state and of the state the change makes (a delta is applied to the one and
/// makes the other: a consumer that would not apply one to so large a state gets neither), and
/// `deltas_since_base` the deltas after the last base. The published state, not the last base:
/// a chain of deltas that grows the state past the limit ends with a base.
fn rebase_reason(o: &Options, sizes: [u64; 2], deltas_since_base: u64) -> Option<&'static str> {
    if o.rebase_above_bytes > 0 && sizes.iter().any(|&size| size > o.rebase_above_bytes) {
        Some("--rebase-above-bytes")
    } else if o.rebase_after > 0 && deltas_since_base >= o.rebase_after {
        Some(REBASE_AFTER)
    } else {
        None
    }
}

/// The reason [`rebase_reason`] gives for a base after `--rebase-after` deltas.
const REBASE_AFTER: &str = "--rebase-after";

/// Publishes the step from `previous` to `next` (with their versions) as the core's delta
/// (`Snapshot::delta_to_at`), or as a whole snapshot (`as_base`: its binary form, for the option
/// named, with a bridge when it is `--rebase-after`'s); what was published.
fn publish_step(
    sink: &mut Sink,
    sequence: u64,
    (previous, previous_version): (&Snapshot, Version),
    (next, next_version): (&Snapshot, Version),
    as_base: Option<&str>,
) -> Result<String, String> {
    if let Some(option) = as_base {
        let bytes = next.to_bytes();
        // A base by --rebase-after comes with its bridge (decision 0017): the consumers at the
        // previous state apply it instead of loading the base. Never past --rebase-above-bytes,
        // whose consumers apply no delta to so large a state: [`rebase_reason`] names that
        // option first whenever either state is over it.
        let bridge = (option == REBASE_AFTER).then(|| previous.delta_to_at(previous_version, next, next_version));
        sink.publish(sequence, Kind::Snapshot, &bytes, &next_version.to_string(), bridge.as_deref())?;
        return Ok(format!("snapshot ({option})"));
    }
    let delta = previous.delta_to_at(previous_version, next, next_version);
    sink.publish(sequence, Kind::Delta, &delta, &next_version.to_string(), None)?;
    Ok("delta".to_owned())
}

/// Removes the files before the `keep`-th newest base that every sink has taken; logs how many.
fn prune(sink: &mut Sink, keep: usize) {
    match sink.prune(keep) {
        Ok(0) => {}
        Ok(n) => eprintln!("{} follow pruned {n} file(s) before the {keep} newest base(s)", output::now()),
        Err(e) => eprintln!("{} follow error: {e}", output::now()),
    }
}

/// The snapshot the directory `dir` publishes: its manifest's base, then every file after it up
/// to the manifest's latest (a delta applied, or a whole snapshot taken as the new base).
pub fn materialize(dir: &Path) -> Result<Snapshot, String> {
    let manifest_path = dir.join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let field = |key: &str| sink::manifest_field(&manifest, key);
    let bad = || format!("{}: not a manifest this exporter writes", manifest_path.display());
    let base = field("base").ok_or_else(bad)?;
    let latest: u64 = field("latest").and_then(|l| l.parse().ok()).ok_or_else(bad)?;
    let first: u64 = base.get(..8).and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let load = |name: &str| -> Result<Snapshot, String> {
        Snapshot::from_bytes(&read(name)?, Limits::default()).map_err(|e| format!("{name}: {e}"))
    };
    let mut snapshot = load(&base)?;
    for sequence in first + 1..=latest {
        let delta = sink::file_name(sequence, Kind::Delta);
        if dir.join(&delta).exists() {
            snapshot.apply_delta(&read(&delta)?).map_err(|e| format!("{delta}: {e}"))?;
        } else {
            snapshot = load(&sink::file_name(sequence, Kind::Snapshot))?;
        }
    }
    Ok(snapshot)
}
