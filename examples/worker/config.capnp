# workerd configuration for the example worker. Build first (see package.json):
#   npm run build && npx workerd serve config.capnp
# The port can be overridden: workerd serve config.capnp --socket-addr http=127.0.0.1:9000
#
# The KV namespace SNAPSHOTS is served locally from the folder kv/ (a file per key: put a
# snapshot at kv/current to serve it instead of the bundled one); on Cloudflare, bind a real
# namespace in wrangler.toml.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .identityLinks),
    (name = "kv", disk = (path = "kv", writable = false)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const identityLinks :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    # workerd cannot compile wasm from bytes at run time: the module is embedded compiled.
    (name = "identity_links_bg.wasm", wasm = embed "dist/identity_links_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [ (name = "SNAPSHOTS", kvNamespace = "kv") ],
);
