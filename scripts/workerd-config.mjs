// The workerd configuration the package tests and the benchmark run their workers with.

/**
 * A workerd config serving one module worker, "main", on 127.0.0.1:`port`; `modules` are its
 * capnp module entries, e.g. `(name = "worker.js", esModule = embed "worker.js")`; with `kv`, a
 * folder served as the KV namespace bound as `KV`.
 */
export function workerdConfig(port, modules, { kv } = {}) {
  // `kv`: a folder served as the KV namespace bound as KV (a file per key).
  const kvService = kv ? `, (name = "kv", disk = (path = ${JSON.stringify(kv)}, writable = false))` : "";
  const kvBinding = kv ? `\n  bindings = [ (name = "KV", kvNamespace = "kv") ],` : "";
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker)${kvService} ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
${modules.map((m) => `    ${m},`).join("\n")}
  ],
  compatibilityDate = "2025-09-01",${kvBinding}
);
`;
}
