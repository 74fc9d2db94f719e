//! `identity-links-export`: one identity-links snapshot from Camunda 7's and Zitadel's own
//! PostgreSQL databases, validated by the same loader as `Snapshot.fromJson` and written as JSON
//! or the binary form, once or on an interval (`--watch`).
//!
//! Where each field comes from, and the orders chosen where the peers' queries have none, are in
//! `docs/export.md`.

mod camunda;
mod db;
mod document;
mod follow;
mod output;
mod parts;
mod project_members;
mod zitadel;

use clap::Parser;
use document::Document;
use output::{Format, Output};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exports an identity-links snapshot from Camunda 7's and Zitadel's PostgreSQL databases.
#[derive(Parser, Debug)]
#[command(name = "identity-links-export", version)]
struct Cli {
    /// Camunda 7's database, as a PostgreSQL URL (postgres://user:password@host:port/db).
    #[arg(long, value_name = "URL")]
    camunda: Option<String>,
    /// Zitadel's database, as a PostgreSQL URL.
    #[arg(long, value_name = "URL")]
    zitadel: Option<String>,
    /// Only the tasks (and their identity links) of this Camunda tenant (`TENANT_ID_`).
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
    /// The Zitadel instance to export (required when the database holds several).
    #[arg(long = "zitadel-instance", value_name = "ID")]
    zitadel_instance: Option<String>,
    /// How the Zitadel release in that database reports `details` (processedSequence and
    /// timestamp): `position` (releases that read projections.current_states by position:
    /// no processedSequence, the state's event_date), `sequence` (releases that read
    /// projections.current_sequences: current_sequence and its timestamp), or `auto`: from the
    /// schema (current_states with a position column: position; else sequence).
    #[arg(long = "zitadel-details", value_enum, default_value_t = zitadel::Details::Auto)]
    zitadel_details: zitadel::Details,
    /// Whether Camunda's engine runs with authorization checks on (its `authorizationEnabled`,
    /// a setting of the engine's configuration, not of its database; Camunda's default is off).
    /// Written as the snapshot's `authorizationEnabled`: on, the snapshot's authorizations
    /// decide what a caller resolved from it reads; off, every authenticated caller reads
    /// everything, as on that engine.
    #[arg(long = "camunda-authorization-enabled")]
    camunda_authorization_enabled: bool,
    /// Where to write the snapshot: a file (replaced atomically) or `-` for standard output.
    #[arg(long, short, value_name = "FILE")]
    out: String,
    /// `json` or `binary`; by default from the file's extension (`.json`, else binary).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The CA certificate (PEM) to verify the databases' TLS certificates and host names
    /// against; without it a TLS connection (`sslmode=require` or `prefer` in the URL) is
    /// encrypted but the certificate is not verified, as with libpq's `require`.
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Option<std::path::PathBuf>,
    /// Export again every SECONDS, replacing the file only when the snapshot changed.
    #[arg(long, value_name = "SECONDS")]
    watch: Option<u64>,
    /// Follow the databases: `--out` is a directory that receives a base snapshot, then one
    /// sequenced file per change (docs/export.md, "Following the databases").
    #[arg(long, conflicts_with = "watch")]
    follow: bool,
    /// With --follow: milliseconds between two steps [default: 250; 50 with --wal-slot, whose
    /// step costs a peek of the slot while nothing commits].
    #[arg(long = "poll-ms", value_name = "MS", requires = "follow")]
    poll_ms: Option<u64>,
    /// With --follow: read Camunda's changes from this logical replication slot (made with the
    /// test_decoding plugin if missing; the server needs wal_level = logical) instead of
    /// scanning its tables each step. The slot keeps the server's log until the exporter reads
    /// it: drop it (pg_drop_replication_slot) when the exporter is retired (docs/export.md).
    #[arg(long = "wal-slot", value_name = "NAME", requires = "follow", requires = "camunda")]
    wal_slot: Option<String>,
    /// With --wal-slot: the most changes one step reads from the slot; more make the step read
    /// Camunda whole.
    #[arg(long = "wal-batch", value_name = "N", default_value_t = 100_000, requires = "wal_slot",
          value_parser = clap::value_parser!(i32).range(1..))]
    wal_batch: i32,
    /// With --follow: how far behind the newest Zitadel event seen each step reads again, for
    /// transactions that commit after a later one was seen.
    #[arg(long = "overlap-seconds", value_name = "SECONDS", default_value_t = 10.0, requires = "follow")]
    overlap_seconds: f64,
    /// With --follow: read everything afresh every SECONDS and publish any difference from the
    /// followed state as a corrective delta (0: never).
    #[arg(long = "reconcile-every", value_name = "SECONDS", default_value_t = 600.0, requires = "follow")]
    reconcile_every: f64,
    /// With --follow: after N deltas since the last base, publish the next change as a base
    /// (a whole snapshot), so that the directory can be pruned (0: never).
    #[arg(long = "rebase-after", value_name = "N", default_value_t = 1000, requires = "follow")]
    rebase_after: u64,
    /// With --follow: publish a change as a base when the published state's binary form or the
    /// one the change makes is over BYTES (a chain of deltas that grows the state past it ends
    /// with a base): for consumers that would not apply a delta to so large a state (the worker
    /// example's isolates above 54 MiB: publish.mjs --apply-max-bytes), which then take the base
    /// as it is instead of making it from the delta (0: never).
    #[arg(long = "rebase-above-bytes", value_name = "BYTES", default_value_t = 0, requires = "follow")]
    rebase_above_bytes: u64,
    /// With --follow: keep the files of the K newest bases (each base and the deltas after it),
    /// removing older ones once every sink has taken them (0: keep every file).
    #[arg(long = "keep-bases", value_name = "K", default_value_t = 2, requires = "follow")]
    keep_bases: usize,
    /// With --follow: a command run (through `sh -c`) with each published file's path as its
    /// last argument; IL_SEQUENCE, IL_KIND (snapshot or delta) and IL_VERSION in its environment.
    #[arg(long = "sink-command", value_name = "COMMAND", requires = "follow")]
    sink_command: Option<String>,
    /// With --follow: PUT each published file to URL/<file name>, then its manifest to
    /// URL/manifest.json (a failing server is retried from the file it missed). The value of
    /// IL_SINK_AUTHORIZATION, when set, is sent as the Authorization header.
    #[arg(long = "sink-url", value_name = "URL", requires = "follow")]
    sink_url: Option<String>,
    /// With --sink-url: a header sent with every PUT, as `Name: value` (repeatable).
    #[arg(long = "sink-header", value_name = "HEADER", requires = "sink_url")]
    sink_header: Vec<String>,
    /// With --follow: stop after this many steps (for tests).
    #[arg(long = "follow-steps", value_name = "N", requires = "follow", hide = true)]
    follow_steps: Option<u64>,
    /// Write the snapshot that a --follow directory publishes (its base with every delta after
    /// it applied) to --out, and exit.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["follow", "watch"])]
    materialize: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.camunda.is_none() && cli.zitadel.is_none() && cli.materialize.is_none() {
        eprintln!("identity-links-export: give --camunda, --zitadel or both (see --help)");
        return ExitCode::from(2);
    }
    if cli.follow {
        return follow(&cli);
    }
    if let Some(dir) = &cli.materialize {
        let written = Output::new(&cli.out, cli.format)
            .and_then(|output| follow::materialize(dir).map(|s| (output.encode(&s), output)))
            .and_then(|(bytes, output)| output.write_if_changed(&bytes));
        return match written {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("identity-links-export: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let output = match Output::new(&cli.out, cli.format) {
        Ok(output) => output,
        Err(e) => {
            eprintln!("identity-links-export: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(seconds) = cli.watch else {
        return match export_once(&cli, &output) {
            Ok(line) => {
                eprintln!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("identity-links-export: {e}");
                ExitCode::FAILURE
            }
        };
    };
    if output.is_stdout() {
        eprintln!("identity-links-export: --watch needs a file to replace (not -)");
        return ExitCode::from(2);
    }
    // Watching: one line per export on standard output; a failed export is reported and the
    // last good file kept.
    loop {
        match export_once(&cli, &output) {
            Ok(line) => println!("{line}"),
            Err(e) => println!("{} export failed: {e}", output::now()),
        }
        std::thread::sleep(Duration::from_secs(seconds.max(1)));
    }
}

/// One export: read the sources, validate, write if the bytes changed; the summary line.
fn export_once(cli: &Cli, output: &Output) -> Result<String, String> {
    let started = Instant::now();
    let mut doc = Document::new();
    let tls = db::Tls { ca_file: cli.ca_file.clone() };
    if let Some(url) = &cli.camunda {
        camunda::export(url, &tls, cli.tenant.as_deref(), cli.camunda_authorization_enabled, &mut doc)?;
    }
    if let Some(url) = &cli.zitadel {
        zitadel::export(url, &tls, cli.zitadel_instance.as_deref(), cli.zitadel_details, &mut doc)?;
    }
    let snapshot = doc.finish()?;
    let stats = snapshot.stats();
    let bytes = output.encode(&snapshot);
    let written = output.write_if_changed(&bytes)?;
    let rows = stats.users + stats.groups + stats.memberships + stats.tasks + stats.identity_links + stats.idp_links;
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        "{} {} users={} groups={} memberships={} tasks={} identityLinks={} idpLinks={} bytes={} ms={:.0} rows/s={:.0}",
        output::now(),
        if written { "written" } else { "unchanged" },
        stats.users,
        stats.groups,
        stats.memberships,
        stats.tasks,
        stats.identity_links,
        stats.idp_links,
        bytes.len(),
        seconds * 1e3,
        rows as f64 / seconds.max(1e-9),
    ))
}

/// The follower's time between two steps: `--poll-ms`, or 250 ms by default (a step through the
/// tables' gates reads them), 50 ms with `--wal-slot` (a step peeks at the slot); at least 1 ms.
fn poll_interval(cli: &Cli) -> Duration {
    let default = if cli.wal_slot.is_some() { 50 } else { 250 };
    Duration::from_millis(cli.poll_ms.unwrap_or(default).max(1))
}

/// `--follow`: the options checked, then [`follow::run`].
fn follow(cli: &Cli) -> ExitCode {
    let seconds = |name: &str, value: f64| -> Result<Duration, String> {
        Duration::try_from_secs_f64(value).map_err(|_| format!("{name} {value}: not a number of seconds"))
    };
    let options = (|| -> Result<follow::Options, String> {
        if cli.out == "-" {
            return Err("--follow needs a directory (--out DIR), not -".to_owned());
        }
        let reconcile = seconds("--reconcile-every", cli.reconcile_every)?;
        let options = follow::Options {
            camunda: cli.camunda.clone(),
            zitadel: cli.zitadel.clone(),
            tls: db::Tls { ca_file: cli.ca_file.clone() },
            tenant: cli.tenant.clone(),
            wal_slot: cli.wal_slot.clone(),
            wal_batch: cli.wal_batch,
            zitadel_instance: cli.zitadel_instance.clone(),
            zitadel_details: cli.zitadel_details,
            authorization_enabled: cli.camunda_authorization_enabled,
            dir: std::path::PathBuf::from(&cli.out),
            command: cli.sink_command.clone(),
            url: cli.sink_url.clone(),
            headers: cli.sink_header.clone(),
            poll: poll_interval(cli),
            overlap: seconds("--overlap-seconds", cli.overlap_seconds)?,
            reconcile_every: (!reconcile.is_zero()).then_some(reconcile),
            steps: cli.follow_steps,
            rebase_after: cli.rebase_after,
            rebase_above_bytes: cli.rebase_above_bytes,
            keep_bases: cli.keep_bases,
        };
        follow::destinations(&options)?; // a bad --sink-url or --sink-header: a usage error
        Ok(options)
    })();
    let options = match options {
        Ok(options) => options,
        Err(e) => {
            eprintln!("identity-links-export: {e}");
            return ExitCode::from(2);
        }
    };
    match follow::run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("identity-links-export: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let base = ["identity-links-export", "--camunda", "postgres://db", "--follow", "--out", "dir"];
        Cli::try_parse_from(base.iter().chain(args)).expect("the test's arguments parse")
    }

    #[test]
    fn the_poll_interval_defaults_by_how_changes_are_read() {
        assert_eq!(poll_interval(&cli(&[])), Duration::from_millis(250), "through the gates");
        assert_eq!(poll_interval(&cli(&["--wal-slot", "s"])), Duration::from_millis(50), "through the slot");
        assert_eq!(poll_interval(&cli(&["--poll-ms", "75"])), Duration::from_millis(75));
        assert_eq!(poll_interval(&cli(&["--wal-slot", "s", "--poll-ms", "900"])), Duration::from_millis(900));
        assert_eq!(poll_interval(&cli(&["--poll-ms", "0"])), Duration::from_millis(1), "at least 1 ms");
    }
}
