// A private PostgreSQL cluster for the exporter's test and benchmark: initdb in a temporary
// directory, listening on 127.0.0.1 (password authentication) and on a socket in that directory
// (trust, for loading data with psql); stopped and removed when the process exits. As root, the
// server runs as Debian's `postgres` user (PostgreSQL refuses to run as root).
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The newest installed server's binaries, or null. */
export function serverBin() {
  const versions = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql").sort((a, b) => a - b) : [];
  return versions.map((v) => `/usr/lib/postgresql/${v}/bin`).filter((b) => existsSync(join(b, "initdb"))).pop() ?? null;
}

/**
 * Starts a cluster: `{ dir, port, psql(db, sql, args?), stop(), PASSWORD, certificate }`. `psql`
 * runs SQL from standard input as the superuser and returns what psql printed; `certificate` is
 * the server's (self-signed) TLS certificate, which the role `tls` must connect with. With
 * `{ logical: true }` the server writes a log that logical replication slots can decode
 * (`wal_level = logical`, for the exporter's `--wal-slot`).
 */
export function startCluster({ logical = false } = {}) {
  const bin = serverBin();
  if (!bin) throw new Error("PostgreSQL's server binaries are missing (scripts/setup.sh installs Debian's postgresql)");
  const asRoot = process.getuid?.() === 0;
  const run = (command, args, options = {}) =>
    asRoot ? execFileSync("runuser", ["-u", "postgres", "--", command, ...args], options) : execFileSync(command, args, options);
  const dir = mkdtempSync("/tmp/identity-links-pg-");
  const PASSWORD = "s3cret-export";
  writeFileSync(join(dir, "pw"), PASSWORD);
  if (asRoot) {
    const id = (flag) => Number(execFileSync("id", [flag, "postgres"]).toString());
    chownSync(dir, id("-u"), id("-g"));
    chownSync(join(dir, "pw"), id("-u"), id("-g"));
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const data = join(dir, "data");
  run(join(bin, "initdb"), ["-D", data, "-U", "postgres", `--pwfile=${join(dir, "pw")}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"], { stdio: "ignore" });
  // TLS: a self-signed certificate for 127.0.0.1, and a role `tls` that may only connect
  // encrypted (its pg_hba lines come before the others).
  run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(data, "server.key"), "-out", join(data, "server.crt")], { stdio: "ignore" });
  chmodSync(join(data, "server.key"), 0o600);
  const hba = join(data, "pg_hba.conf");
  writeFileSync(hba, `hostssl all tls 127.0.0.1/32 scram-sha-256\nhostnossl all tls 127.0.0.1/32 reject\n${readFileSync(hba, "utf8")}`);
  run(join(bin, "pg_ctl"), ["-D", data, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c ssl=on${logical ? " -c wal_level=logical" : ""}`, "-l", join(dir, "log"), "-w", "start"], { stdio: "ignore" });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"], { stdio: "ignore" });
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  const psql = (db, sql, args = []) =>
    run(join(bin, "psql"), ["-h", dir, "-p", String(port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-q", "-X", ...args], { input: sql, encoding: "utf8", maxBuffer: 1 << 26 });
  psql("postgres", `create role tls login superuser password '${PASSWORD}';`);
  return { dir, port, psql, stop, PASSWORD, certificate: join(data, "server.crt") };
}
