# workerd configuration for the example worker, for a local run. Build first (see package.json):
#   npm run build && npx workerd serve config.capnp
# The port can be overridden: workerd serve config.capnp --socket-addr http=127.0.0.1:9000
#
# The KV namespace SNAPSHOTS is served from the folder kv/ (a file per key): publish a snapshot
# there with `node publish.mjs snapshot.json --dir kv`. On Cloudflare, bind a real namespace in
# wrangler.toml. The settings (README.md in this folder) are text bindings here, [vars] there.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .identityLinks),
    (name = "kv", disk = (path = "kv", writable = false)),
    # The manifest's head (below): its Durable Object's storage, in the folder head/.
    # (name = "head", disk = (path = "head", writable = true)),
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
  bindings = [
    (name = "SNAPSHOTS", kvNamespace = "kv"),
    # Full rights for every request: only behind a gateway of yours. Or verify callers:
    #   (name = "ZITADEL_ISSUER", text = "https://acme.zitadel.cloud"),
    #   (name = "ZITADEL_AUDIENCE", text = "<project id>"),
    #   (name = "CAMUNDA_ZITADEL_CLAIM", text = "camunda_user"),
    (name = "AUTH", text = "trusted"),
    # The bundled sample data instead of KV (a demo only):
    # (name = "DEMO", text = "sample"),
    # The manifest read from a Durable Object instead of KV (docs/decisions/0012): publish with
    #   IL_PUBLISH_TOKEN=<the token> node publish.mjs snapshot.idl --dir kv --head http://127.0.0.1:8787
    # (name = "MANIFEST_HEAD", durableObjectNamespace = (className = "ManifestHead")),
    # (name = "PUBLISH_TOKEN", text = "<at least 32 characters>"),
  ],
  # With MANIFEST_HEAD, and the "head" service above:
  # durableObjectNamespaces = [ (className = "ManifestHead", uniqueKey = "identity-links-manifest-head", enableSql = true) ],
  # durableObjectStorage = (localDisk = "head"),
);
