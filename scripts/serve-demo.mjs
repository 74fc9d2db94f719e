// Serves the demo page: www/ at /, the built package (pkg/) at /pkg/. Plain ES modules, nothing
// fetched from outside localhost. Usage: node scripts/serve-demo.mjs [--port 8080] [--quiet]
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1] || process.env.PORT || 8080);
const quiet = args.includes("--quiet");
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
};

/** The file a URL path names, inside www/ or pkg/, or null. */
function fileFor(pathname) {
  const [base, rest] = pathname.startsWith("/pkg/") ? [join(root, "pkg"), pathname.slice(5)] : [join(root, "www"), pathname.slice(1)];
  const file = normalize(join(base, rest || "index.html"));
  if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) return null;
  return file;
}

if (!existsSync(join(root, "pkg/identity_links.js"))) {
  console.error("pkg/ is missing: run `make build` (make demo does it for you)");
  process.exit(1);
}

const server = createServer((req, res) => {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
  } catch {
    return res.writeHead(400).end();
  }
  const file = fileFor(pathname);
  if (!file) return res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
  res.end(readFileSync(file));
});

server.listen(port, "127.0.0.1", () => {
  if (!quiet) console.log(`identity-links demo: http://localhost:${port}/  (Ctrl-C to stop)`);
});
