// The package in web-app toolchains (make test-toolchains): `npm pack` the built package,
// install the tarball in scratch projects, and build and run it as the README's "Using the
// package" table shows, for each toolchain:
//   - TypeScript `tsc --strict` in every resolution mode (bundler; node16 and nodenext, ES
//     modules and CommonJS, with @types/node and no `dom` lib; node10), the `.wasm` subpath's
//     typings, and `import init from "identity-links"` compiled to CommonJS and run;
//   - @arethetypeswrong/cli over the tarball;
//   - webpack 5 (`web` and `webworker` targets), Vite, Rollup and esbuild builds, each loaded in
//     headless Chromium and Firefox, answering a query;
//   - Node bundles moved out of the repository: webpack's `node` target (the `.wasm` emitted
//     beside it), esbuild's `cjs` and `esm` (the `.wasm` inside);
//   - tree-shaking: an unused import leaves no module code in a bundle;
//   - Next.js, with no configuration: `next build`, then `next start` on 127.0.0.1 answering a
//     Node.js route, an edge route (GET and POST through handleRequest) and a page whose client
//     component runs a query in Chromium and Firefox;
//   - TypeScript 6 and 7 over the same projects (7 must refuse node10, which it removed);
//   - Jest with testEnvironment jsdom, CommonJS and ES modules, with no polyfill;
//   - Bun: `bun run` (import and require), a `--target=bun` bundle and a `--compile` binary moved
//     to another folder with the project's node_modules gone, and `--target=browser
//     --conditions=bun` in Chromium and Firefox, and `--target=browser` with no flag, the
//     `.wasm` subpath imported and its URL given to init();
//   - SvelteKit with the package in devDependencies and @sveltejs/adapter-node: `vite build`,
//     `vite preview` answering from a server load, adapter-node's build/ moved out of the
//     repository answering from a server load and from the page's client code in Chromium and
//     Firefox; and Vite's SSR build bundling the package (`ssr.noExternal`).
// Run with `node --test` (tests/js/check.mjs): one test per check, the counts at the end.
//
// Usage: node tests/toolchains/run.mjs [name ...]   (default: all)
import { check } from "../js/check.mjs";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { BROWSERS, launch, waitFor } from "../js/browsers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const pkgDir = process.env.PKG_DIR ? resolve(root, process.env.PKG_DIR) : join(root, "pkg");
const bin = (name) => join(root, "node_modules/.bin", name);
// Each TypeScript major by its own path (node_modules/.bin/tsc is whichever npm linked last).
const tsc = { 5: join(root, "node_modules/typescript/bin/tsc"), 6: join(root, "node_modules/typescript-6/bin/tsc"), 7: join(root, "node_modules/typescript-7/bin/tsc") };
const scratch = join(root, "target/toolchains");
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.includes(name);


function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 300_000, ...options });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** A scratch project `name` with the packed package installed and `files` written into it. */
function project(name, files, extraPackageJson = {}) {
  const dir = join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
  const pkg = { name, private: true, type: "module", dependencies: { "identity-links": `file:../${tarball}` }, ...extraPackageJson };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  // --prefer-offline: the cache first, the registry for what a new machine has not cached yet.
  const install = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--silent"], { cwd: dir });
  if (install.code !== 0) throw new Error(`npm install in ${name} failed:\n${install.out}`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

// --- The tarball -------------------------------------------------------------------------------
if (!existsSync(join(pkgDir, "package.json"))) throw new Error("pkg/ is missing: run `make build` first");
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
const packed = run("npm", ["pack", pkgDir, "--pack-destination", scratch, "--silent"]);
if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.out}`);
const tarball = join(scratch, packed.out.trim().split("\n").pop());
// The npm reader's README: nothing that only works in the repository.
{
  const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
  const repoOnly = ["make ", "../shared", "](docs/", "](bench/", "tests/"].filter((s) => readme.includes(s));
  check("the package's README has no repository-only commands or links", readme.includes("npm install identity-links") && repoOnly.length === 0, repoOnly.join(", "));
}
// @types/node (for the Node modes) comes from the repository's node_modules.
const typeRoots = [join(root, "node_modules/@types")];

/** The README's snippet for a runtime, as a TypeScript consumer (checked, not run). */
const consumerEsm = `import init, { Snapshot, getIdentityLinks, handleRequest, initSync, isIdentityError } from "identity-links";
import type { IdentityLink, InitInput } from "identity-links";
await init();
const snapshot: Snapshot = Snapshot.fromJson('{"version":1}');
const links: IdentityLink[] = getIdentityLinks(snapshot, { taskId: "t" });
const answer = await handleRequest(snapshot, new Request("http://x/identity/groups?userId=u"), undefined, { auth: "trusted" });
const status: number = answer.status;
const input: InitInput = new URL("https://example.com/identity_links_bg.wasm");
initSync({ module: new Uint8Array(0) });
export { links, status, input, isIdentityError };
`;
const consumerCjs = `import init = require("identity-links");
import { Snapshot } from "identity-links";
const snapshot: Snapshot = Snapshot.fromJson('{"version":1}');
void init.default();
export const users: number = snapshot.stats().users;
`;

// --- TypeScript in every resolution mode --------------------------------------------------------
if (wanted("typescript")) {
  console.log("toolchains: TypeScript");
  const modes = [
    { name: "bundler (dom lib)", files: { "a.ts": consumerEsm }, compilerOptions: { module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom"], types: [] } },
    { name: "node16, ES module, @types/node, no dom lib", files: { "a.mts": consumerEsm }, compilerOptions: { module: "node16", moduleResolution: "node16", lib: ["es2022"], types: ["node"] } },
    { name: "node16, CommonJS (.cts), @types/node, no dom lib", files: { "a.cts": consumerCjs }, compilerOptions: { module: "node16", moduleResolution: "node16", lib: ["es2022"], types: ["node"] } },
    { name: "nodenext, ES module, @types/node", files: { "a.mts": consumerEsm }, compilerOptions: { module: "nodenext", moduleResolution: "nodenext", lib: ["es2022"], types: ["node"] } },
    { name: "nodenext, CommonJS (.cts), @types/node", files: { "a.cts": consumerCjs }, compilerOptions: { module: "nodenext", moduleResolution: "nodenext", lib: ["es2022"], types: ["node"] } },
    { name: "node10, CommonJS", files: { "a.ts": consumerCjs }, compilerOptions: { module: "commonjs", moduleResolution: "node10", lib: ["es2022"], types: ["node"] } },
  ];
  // The workerd snippet: the .wasm subpath has typings (a compiled module).
  const wasmConsumer = `import wasm from "identity-links/identity_links_bg.wasm";\nimport { initSync } from "identity-links";\ninitSync({ module: wasm });\n`;
  for (const mode of modes) {
    const files = { ...mode.files, "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "es2022", skipLibCheck: false, typeRoots, ...mode.compilerOptions }, include: Object.keys(mode.files) }) };
    if (mode.name.startsWith("bundler")) {
      files["w.ts"] = wasmConsumer;
      files["tsconfig.json"] = JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "es2022", typeRoots, ...mode.compilerOptions }, include: ["a.ts", "w.ts"] });
    }
    const dir = project(`ts-${mode.name.replace(/[^a-z0-9]+/gi, "-")}`, files);
    const r = run(tsc[5], ["-p", "tsconfig.json"], { cwd: dir });
    check(`tsc --strict, ${mode.name}`, r.code === 0, r.out);
    // The same project with the other TypeScript majors (the README's TypeScript row): 6 runs
    // node10 only with its deprecation silenced, and 7 has removed it (it must refuse the option,
    // so that the row stays true).
    for (const major of ["6", "7"]) {
      const node10 = mode.compilerOptions.moduleResolution === "node10";
      const args = ["-p", "tsconfig.json", ...(node10 && major === "6" ? ["--ignoreDeprecations", "6.0"] : [])];
      const t = run(tsc[major], args, { cwd: dir });
      if (node10 && major === "7") check(`TypeScript 7 refuses ${mode.name} (removed), as the README says`, t.code !== 0 && /node10/.test(t.out), t.out);
      else check(`TypeScript ${major}: tsc --strict, ${mode.name}${node10 ? " (ignoreDeprecations 6.0)" : ""}`, t.code === 0, t.out);
    }
  }
  // `import init from "identity-links"` compiled to CommonJS, then run in Node.
  const dir = project("ts-commonjs-interop", {
    "main.ts": `import init, { Snapshot } from "identity-links";\ninit().then(() => console.log("users", Snapshot.fromJson('{"version":1,"users":[{"id":"u"}]}').stats().users));\n`,
    "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, module: "commonjs", moduleResolution: "node10", target: "es2022", esModuleInterop: true, outDir: "out", typeRoots, types: ["node"] }, include: ["main.ts"] }),
  }, { type: "commonjs" });
  const built = run(tsc[5], ["-p", "tsconfig.json"], { cwd: dir });
  const ran = built.code === 0 ? run("node", ["out/main.js"], { cwd: dir }) : built;
  check("import init from \"identity-links\" compiled to CommonJS runs", ran.code === 0 && ran.out.includes("users 1"), ran.out);
}

// --- @arethetypeswrong/cli -------------------------------------------------------------------------
if (wanted("attw")) {
  console.log("toolchains: @arethetypeswrong/cli");
  const r = run(bin("attw"), [tarball, "--format", "json"], { cwd: scratch });
  let problems = [];
  try {
    problems = JSON.parse(r.out.slice(r.out.indexOf("{"))).analysis.problems ?? [];
  } catch {
    problems = [{ kind: "unreadable output", detail: r.out }];
  }
  const listed = problems.map((p) => `${p.kind}${p.entrypoint ? ` ${p.entrypoint}` : ""}${p.resolutionKind ? ` (${p.resolutionKind})` : ""}`);
  // The two it reports are justified in the README: the .wasm subpath is not JavaScript (its
  // typings describe the compiled module that workerd and bundlers import), and /web is the
  // browser build, an ES module only. Anything else fails.
  const justified = ["CJSResolvesToESM ./identity_links_bg.wasm (node16-cjs)", "CJSResolvesToESM ./web (node16-cjs)"];
  const unexplained = listed.filter((p) => !justified.includes(p));
  check(`attw: no problem but the two the README justifies (${listed.length} reported)`, unexplained.length === 0, unexplained.join("\n"));
}

// --- Bundlers, loaded in headless Chromium ------------------------------------------------------
/**
 * The page script every bundle runs: init, one query, the answer in the title; and the handler
 * with AuthOptions, whose token verifier (and jose) the package loads with import() on first use
 * (a chunk of its own in bundlers that split), refusing a token signed with `alg: none` as
 * Zitadel does (the title says so otherwise).
 */
const app = `import init, { Snapshot, getIdentityLinks, handleRequest } from "identity-links";
await init(INIT_ARG);
const snapshot = Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","assignee":"ann"}]}');
const answer = JSON.stringify(getIdentityLinks(snapshot, { taskId: "t" }));
const request = new Request("http://x/zitadel.user.v2.UserService/ListIDPLinks", { method: "POST", body: '{"userId":"ann"}',
  headers: { "content-type": "application/json", authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm4ifQ." } });
const refused = await handleRequest(snapshot, request, undefined, { auth: { zitadel: { issuer: "https://issuer.invalid", audience: "a" } } });
const said = (await refused.json()).message;
document.title = refused.status === 401 && said === "Errors.Token.Invalid (AUTH-7fs1e)" ? answer : \`the handler answered \${refused.status} \${said}\`;
`;
const expected = '[{"userId":"ann","groupId":null,"type":"assignee"}]';
const worker = `import init, { Snapshot } from "identity-links";
await init();
self.postMessage(Snapshot.fromJson('{"version":1,"users":[{"id":"u"}]}').stats().users);
`;

/** Serves `dir` on 127.0.0.1 (`.wasm` as application/wasm); `{ url, close }`. */
async function serve(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "index.html") : path;
    if (!existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

const browsers = new Map();
/** The page title once it changes from "loading" (or the page's errors), in headless `name`. */
async function titleIn(name, url) {
  if (!browsers.has(name)) browsers.set(name, await launch(name));
  const page = await browsers.get(name).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(url);
  await waitFor(page, () => document.title !== "loading", 20_000);
  const title = await page.title();
  await page.close();
  const shown = title === "" ? "(an empty title)" : title;
  return errors.length > 0 ? `${shown} / errors: ${errors.join(" | ")}` : shown;
}
const html = (script, module = true) => `<!doctype html><title>loading</title><link rel="icon" href="data:,"><script ${module ? 'type="module" ' : ""}src="${script}"></script>`;

async function bundler(name, files, build, served, page = "index.html") {
  const dir = project(name, files);
  const r = build(dir);
  if (r.code !== 0) return check(`${name}: builds`, false, r.out);
  const site = await serve(join(dir, served));
  try {
    for (const browser of BROWSERS) {
      const title = await titleIn(browser, site.url + page);
      check(`${name}: builds, and the page answers in ${browser}`, title === expected, title);
    }
  } finally {
    site.close();
  }
}

/** A Node program that answers a query, for the Node bundles. */
const nodeMain = `import { Snapshot } from "identity-links";\nconsole.log("users", Snapshot.fromJson('{"version":1,"users":[{"id":"u"}]}').stats().users);\n`;

/** Copies `files` into a new folder outside the repository (no node_modules above it) and runs `main` there with Node. */
function runMoved(files, main) {
  const away = mkdtempSync(join(tmpdir(), "identity-links-bundle-"));
  try {
    for (const file of files) cpSync(file, join(away, file.split("/").pop()), { recursive: true });
    return run("node", [main], { cwd: away });
  } finally {
    rmSync(away, { recursive: true, force: true });
  }
}

if (wanted("webpack")) {
  console.log("toolchains: webpack 5");
  const config = (target, entry) => `export default { mode: "production", target: "${target}", entry: "./${entry}", experiments: { topLevelAwait: true }, output: { path: new URL("./dist", import.meta.url).pathname, filename: "main.js", publicPath: "" } };\n`;
  await bundler("webpack-web", { "app.js": app.replace("INIT_ARG", ""), "webpack.config.js": config("web", "app.js"), "dist/index.html": html("main.js", false) }, (d) => run(bin("webpack"), ["--config", "webpack.config.js"], { cwd: d }), "dist");
  // A web worker built with target "webworker": the page starts it and shows its message.
  const page = `<!doctype html><title>loading</title><link rel="icon" href="data:,"><script>new Worker("main.js").onmessage = (e) => { document.title = e.data === 1 ? ${JSON.stringify(expected)} : "worker said " + e.data; };</script>`;
  await bundler("webpack-webworker", { "worker.js": worker, "webpack.config.js": config("webworker", "worker.js"), "dist/index.html": page }, (d) => run(bin("webpack"), ["--config", "webpack.config.js"], { cwd: d }), "dist");
  // A Node bundle (target "node", the `webpack` condition: node/bundled.mjs): webpack emits the
  // `.wasm` for `new URL(..., import.meta.url)`; the bundle's folder, moved, runs.
  const dir = project("webpack-node", { "main.js": nodeMain, "webpack.config.js": config("node", "main.js") });
  const r = run(bin("webpack"), ["--config", "webpack.config.js"], { cwd: dir });
  const emitted = r.code === 0 ? readdirSync(join(dir, "dist")) : [];
  const ran = r.code === 0 ? runMoved(emitted.map((f) => join(dir, "dist", f)), "main.js") : r;
  const size = r.code === 0 ? statSync(join(dir, "dist/main.js")).size : 0;
  // The bytes are in the emitted .wasm, not also in the bundle as base64 (node/embedded.mjs).
  check(`webpack, target node: the bundle (${size} bytes) and its .wasm, moved, run (${emitted.join(", ")})`, ran.code === 0 && ran.out.includes("users 1") && emitted.some((f) => f.endsWith(".wasm")) && size < 100_000, ran.out);
}

if (wanted("vite")) {
  console.log("toolchains: Vite");
  await bundler("vite", { "index.html": html("/app.js"), "app.js": app.replace("INIT_ARG", ""), "vite.config.js": "export default { build: { target: 'es2022' } };\n" }, (d) => run(bin("vite"), ["build", "--logLevel", "warn"], { cwd: d }), "dist");
}

if (wanted("rollup")) {
  console.log("toolchains: Rollup");
  // The README's recipe: Rollup does not emit the .wasm; copy it beside the bundle and pass its URL.
  const recipe = app.replace("INIT_ARG", '{ module_or_path: new URL("identity_links_bg.wasm", import.meta.url) }');
  const config = `import { nodeResolve } from "@rollup/plugin-node-resolve";\nimport { copyFileSync, mkdirSync } from "node:fs";\nmkdirSync("dist", { recursive: true });\ncopyFileSync("node_modules/identity-links/identity_links_bg.wasm", "dist/identity_links_bg.wasm");\nexport default { input: "app.js", output: { dir: "dist", format: "es" }, plugins: [nodeResolve({ browser: true })] };\n`;
  await bundler("rollup", { "app.js": recipe, "rollup.config.mjs": config, "dist/index.html": html("app.js") }, (d) => run(bin("rollup"), ["-c", "--silent"], { cwd: d, env: { ...process.env, NODE_PATH: join(root, "node_modules") } }), "dist");
}

if (wanted("esbuild")) {
  console.log("toolchains: esbuild");
  // The README's recipe: the .wasm as a file loader asset, its URL passed to init (any format).
  const recipe = `import wasmUrl from "identity-links/identity_links_bg.wasm";\n${app.replace("INIT_ARG", "{ module_or_path: new URL(wasmUrl, location.href) }")}`;
  const build = (format) => (d) => run(bin("esbuild"), ["app.js", "--bundle", `--format=${format}`, "--platform=browser", "--loader:.wasm=file", "--outdir=dist", "--log-level=warning"], { cwd: d });
  await bundler("esbuild-esm", { "app.js": recipe, "dist/index.html": html("app.js") }, build("esm"), "dist");
  // iife cannot hold top-level await: the same app, wrapped in an async function.
  const iife = `import wasmUrl from "identity-links/identity_links_bg.wasm";\nimport init, { Snapshot, getIdentityLinks } from "identity-links";\n(async () => {\n  await init({ module_or_path: new URL(wasmUrl, location.href) });\n  const snapshot = Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","assignee":"ann"}]}');\n  document.title = JSON.stringify(getIdentityLinks(snapshot, { taskId: "t" }));\n})();\n`;
  await bundler("esbuild-iife", { "app.js": iife, "dist/index.html": html("app.js", false) }, build("iife"), "dist");
  // Node bundles, CommonJS and ES module: the `.wasm` travels inside (node/embedded.mjs), so the
  // bundle file alone, moved out of the repository, runs with no node_modules reachable.
  const dir = project("esbuild-node", { "main.js": nodeMain });
  for (const format of ["cjs", "esm"]) {
    const file = `main.${format === "cjs" ? "cjs" : "mjs"}`;
    const r = run(bin("esbuild"), ["main.js", "--bundle", "--platform=node", `--format=${format}`, `--outfile=dist/${file}`, "--log-level=warning"], { cwd: dir });
    const ran = r.code === 0 ? runMoved([join(dir, "dist", file)], file) : r;
    check(`esbuild --platform=node --format=${format}: the bundle alone, moved, runs`, ran.code === 0 && ran.out.includes("users 1"), ran.out);
  }
}

if (wanted("tree-shaking")) {
  console.log("toolchains: tree-shaking");
  const dir = project("tree-shaking", { "app.js": `import { Snapshot } from "identity-links";\nconsole.log("no identity-links here");\n` });
  const r = run(bin("esbuild"), ["app.js", "--bundle", "--format=esm", "--platform=browser", "--loader:.wasm=file", "--outfile=dist/app.js", "--log-level=warning"], { cwd: dir });
  const out = r.code === 0 ? readFileSync(join(dir, "dist/app.js"), "utf8") : r.out;
  const emitted = r.code === 0 ? readdirSync(join(dir, "dist")) : [];
  check(`an unused import costs nothing (${out.length} bytes of bundle, no .wasm)`, r.code === 0 && out.length < 200 && !out.includes("Snapshot") && emitted.length === 1, `${emitted} / ${out.slice(0, 400)}`);

  // The token verifier (auth/zitadel-token.js) and jose are imported with import() when a handler
  // is given auth.zitadel: a browser bundle that only queries a snapshot loads neither. esbuild
  // with --splitting (webpack, Vite, Rollup and Bun split import() by default) puts them in
  // chunks of their own; what the page loads at start is the entry and the chunks it imports
  // statically (the metafile's "import-statement" edges). Markers: the verifier's default key
  // set path and jose's error codes.
  const markers = ["/oauth/v2/keys", "ERR_JWS_INVALID"];
  const queryOnly = `import init, { Snapshot } from "identity-links";\nawait init();\ndocument.title = String(Snapshot.fromJson('{"version":1}').stats().users);\n`;
  const withAuth = `import init, { Snapshot, handleRequest } from "identity-links";\nawait init();\nconst s = Snapshot.fromJson('{"version":1}');\nexport default (r) => handleRequest(s, r, undefined, { auth: { zitadel: { issuer: "https://i.example", audience: "a" } } });\n`;
  const split = project("lazy-verifier", { "query.js": queryOnly, "auth.js": withAuth });
  const gz = (text) => gzipSync(text, { level: 9 }).length;
  const sizes = {};
  for (const entry of ["query", "auth"]) {
    const out = `dist-${entry}`;
    const b = run(bin("esbuild"), [`${entry}.js`, "--bundle", "--splitting", "--minify", "--format=esm", "--platform=browser", "--loader:.wasm=file", `--outdir=${out}`, `--metafile=${out}.json`, "--log-level=warning"], { cwd: split });
    if (b.code !== 0) {
      check(`esbuild --splitting, ${entry}: builds`, false, b.out);
      continue;
    }
    const outputs = JSON.parse(readFileSync(join(split, `${out}.json`), "utf8")).outputs;
    const loaded = new Set();
    const visit = (file) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const i of outputs[file].imports) if (i.kind === "import-statement") visit(i.path);
    };
    visit(`${out}/${entry}.js`);
    const text = (files) => files.filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(split, f), "utf8")).join("\n");
    const atStart = text([...loaded]);
    const all = text(Object.keys(outputs));
    sizes[entry] = { atStart: gz(atStart), all: gz(all) };
    check(`esbuild --splitting, ${entry === "query" ? "queries only" : "handleRequest with auth.zitadel"}: what the page loads at start has no verifier and no jose (${atStart.length} bytes, ${gz(atStart)} gzipped)`, markers.every((m) => !atStart.includes(m)), markers.filter((m) => atStart.includes(m)).join(", "));
    // The markers are the right ones: the lazy chunks hold them.
    check(`esbuild --splitting, ${entry}: the lazy chunks hold the verifier and jose (${all.length - atStart.length} bytes, loaded on first use)`, markers.every((m) => all.includes(m)), Object.keys(outputs).join(", "));
  }
  console.log(`toolchains: esbuild --splitting --minify, gzipped: ${JSON.stringify(sizes)}`);
}

if (wanted("nextjs")) {
  console.log("toolchains: Next.js");
  const snapshot = '{"version":1,"users":[{"id":"u","org":"o"}],"tasks":[{"id":"t","assignee":"ann"}],"idpLinks":[{"userId":"u","idpId":"i","providedUserId":"p","providedUserName":"n"}]}';
  const dir = project("nextjs", {
    "next.config.mjs": "export default {};\n",
    // The title starts as "loading", as in the other pages, so that the test waits for the
    // client component instead of reading an empty title before it ran.
    "app/layout.js": "export default function RootLayout({ children }) {\n  return <html lang=\"en\"><head><title>loading</title><link rel=\"icon\" href=\"data:,\" /></head><body>{children}</body></html>;\n}\n",
    "app/page.js": "import Links from \"./links\";\nexport default function Page() {\n  return <main><Links /></main>;\n}\n",
    // The README's recipe for a client component: init() in an effect, then queries.
    "app/links.js": `"use client";
import { useEffect, useState } from "react";
import init, { Snapshot, getIdentityLinks } from "identity-links";
export default function Links() {
  const [answer, setAnswer] = useState("loading");
  useEffect(() => {
    init().then(() => {
      const text = JSON.stringify(getIdentityLinks(Snapshot.fromJson(${JSON.stringify(snapshot)}), { taskId: "t" }));
      document.title = text;
      setAnswer(text);
    }, (e) => { document.title = String(e); });
  }, []);
  return <pre>{answer}</pre>;
}
`,
    // A Node.js route: the package ready at once, as in Node.
    "app/api/node/route.js": `import { Snapshot, getIdentityLinks } from "identity-links";
export const runtime = "nodejs";
const snapshot = Snapshot.fromJson(${JSON.stringify(snapshot)});
export function GET() {
  return Response.json(getIdentityLinks(snapshot, { taskId: "t" }));
}
`,
    // An edge route serving the peers' routes through handleRequest.
    "app/api/edge/[...path]/route.js": `import init, { Snapshot, handleRequest } from "identity-links";
export const runtime = "edge";
const ready = init().then(() => Snapshot.fromJson(${JSON.stringify(snapshot)}));
async function serve(request) {
  const url = new URL(request.url);
  url.pathname = url.pathname.replace(/^\\/api\\/edge/, "");
  return handleRequest(await ready, new Request(url, request), undefined, { auth: "trusted" });
}
export { serve as GET, serve as POST };
`,
  });
  const next = join(root, "node_modules/next/dist/bin/next");
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  const built = run("node", [next, "build"], { cwd: dir, env });
  check("next build, no configuration", built.code === 0, built.out.slice(-3000));
  if (built.code === 0) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const { spawn } = await import("node:child_process");
    const server = spawn("node", [next, "start", "-H", "127.0.0.1", "-p", String(port)], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    server.stdout.on("data", (d) => (log += d));
    server.stderr.on("data", (d) => (log += d));
    const base = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await fetch(`${base}/api/node`);
          break;
        } catch {
          await new Promise((ok) => setTimeout(ok, 200));
        }
      }
      const text = async (path, init) => {
        try {
          return await (await fetch(base + path, init)).text();
        } catch (e) {
          return String(e);
        }
      };
      check("Next.js: a Node.js route answers", (await text("/api/node")) === expected, log);
      check("Next.js: an edge route answers Camunda's GET through handleRequest", (await text("/api/edge/task/t/identity-links")) === expected, log);
      const idp = await text("/api/edge/v2/users/u/links/_search", { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":{"limit":5}}' });
      check("Next.js: an edge route answers Zitadel's POST through handleRequest", idp === '{"details":{"totalResult":"1","timestamp":"0001-01-01T00:00:00Z"},"result":[{"idpId":"i","userId":"p","userName":"n"}]}', idp);
      for (const browser of BROWSERS) {
        const title = await titleIn(browser, `${base}/`);
        check(`Next.js: a client component answers in ${browser}`, title === expected, title);
      }
    } finally {
      server.kill();
    }
  }
}

if (wanted("jest")) {
  console.log("toolchains: Jest with jsdom");
  // The README's row: no polyfill, no configuration beyond testEnvironment. Jest resolves the
  // Node entry in CommonJS and the browser entry in ES modules; jsdom's globals have neither
  // TextEncoder/TextDecoder nor fetch.
  const test = (imports) => `${imports}
test("a query answers under jsdom", async () => {
  expect(typeof document).toBe("object");
  expect(typeof TextDecoder).toBe("undefined"); // what the package must do without
  await init();
  const snapshot = Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","assignee":"ann"}]}');
  expect(JSON.stringify(getIdentityLinks(snapshot, { taskId: "t" }))).toBe(${JSON.stringify(expected)});
});
`;
  const jest = join(root, "node_modules/jest/bin/jest.js");
  const cjs = project("jest-jsdom-cjs", { "a.test.js": test(`const { default: init, Snapshot, getIdentityLinks } = require("identity-links");`) }, { type: "commonjs", jest: { testEnvironment: "jsdom" } });
  const r1 = run("node", [jest, "--ci"], { cwd: cjs });
  check("Jest, testEnvironment jsdom, CommonJS: a query answers", r1.code === 0 && r1.out.includes("1 passed"), r1.out);
  const esm = project("jest-jsdom-esm", { "a.test.js": test(`import init, { Snapshot, getIdentityLinks } from "identity-links";`) }, { jest: { testEnvironment: "jsdom" } });
  const r2 = run("node", ["--experimental-vm-modules", "--no-warnings", jest, "--ci"], { cwd: esm });
  check("Jest, testEnvironment jsdom, ES modules (init() reads the file: URL): a query answers", r2.code === 0 && r2.out.includes("1 passed"), r2.out);
}

if (wanted("bun")) {
  console.log("toolchains: Bun");
  const bun = bin("bun");
  const main = `import { Snapshot, getIdentityLinks } from "identity-links";\nconsole.log(JSON.stringify(getIdentityLinks(Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","assignee":"ann"}]}'), { taskId: "t" })));\n`;
  const dir = project("bun", { "main.js": main, "main.cjs": `const { Snapshot } = require("identity-links");\nconsole.log("users", Snapshot.fromJson('{"version":1,"users":[{"id":"u"}]}').stats().users);\n` });
  const ran = run(bun, ["run", "main.js"], { cwd: dir });
  check("bun run: ready at once (the bun entry)", ran.code === 0 && ran.out.trim() === expected, ran.out);
  const required = run(bun, ["run", "main.cjs"], { cwd: dir });
  check("bun run, require(): ready at once", required.code === 0 && required.out.includes("users 1"), required.out);
  // A bundle and a binary moved to another folder must run with the project's node_modules gone
  // (where a path to it baked in at build time would still find it).
  const away = join(scratch, "bun-moved");
  rmSync(away, { recursive: true, force: true });
  mkdirSync(away, { recursive: true });
  const bundled = run(bun, ["build", "main.js", "--target=bun", "--outdir=out"], { cwd: dir });
  if (bundled.code === 0) cpSync(join(dir, "out"), join(away, "out"), { recursive: true });
  const compiled = run(bun, ["build", "main.js", "--compile", "--outfile=app"], { cwd: dir });
  if (compiled.code === 0) cpSync(join(dir, "app"), join(away, "app"));
  renameSync(join(dir, "node_modules"), join(dir, "node_modules.gone"));
  try {
    const bundleRan = bundled.code === 0 ? run(bun, ["run", join(away, "out/main.js")], { cwd: scratch }) : bundled;
    check(`bun build --target=bun: the bundle and its .wasm, moved, run without node_modules (${bundled.code === 0 ? readdirSync(join(dir, "out")).join(", ") : ""})`, bundleRan.code === 0 && bundleRan.out.trim() === expected, bundleRan.out);
    const binaryRan = compiled.code === 0 ? run(join(away, "app"), [], { cwd: scratch }) : compiled;
    check("bun build --compile: the binary, moved, runs without node_modules", binaryRan.code === 0 && binaryRan.out.trim() === expected, binaryRan.out);
  } finally {
    renameSync(join(dir, "node_modules.gone"), join(dir, "node_modules"));
  }
  // The browser bundler: the bun entry (--conditions=bun) makes Bun emit the .wasm for init().
  await bundler("bun-browser", { "app.js": app.replace("INIT_ARG", ""), "dist/index.html": html("app.js") }, (d) => run(bun, ["build", "app.js", "--target=browser", "--conditions=bun", "--outdir=dist"], { cwd: d }), "dist");
  // With no flag, the .wasm subpath imported as esbuild's recipe does: Bun's default loader for
  // it is the file loader (the bundle gets its URL), and init() is given that URL.
  const recipe = `import wasmUrl from "identity-links/identity_links_bg.wasm";\n${app.replace("INIT_ARG", "{ module_or_path: new URL(wasmUrl, location.href) }")}`;
  await bundler("bun-browser-recipe", { "app.js": recipe, "dist/index.html": html("app.js") }, (d) => run(bun, ["build", "app.js", "--target=browser", "--outdir=dist"], { cwd: d }), "dist");
}

/** Starts `args` (a Node server) and waits until `url` answers; `{ fetched, log, stop }`. */
async function startServer(args, options, url) {
  const { spawn } = await import("node:child_process");
  const server = spawn("node", args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  const state = { log: "", stop: () => server.kill() };
  server.stdout.on("data", (d) => (state.log += d));
  server.stderr.on("data", (d) => (state.log += d));
  state.fetched = "";
  for (let i = 0; i < 100 && !state.fetched && server.exitCode === null; i++) {
    state.fetched = await fetch(url).then((r) => r.text(), () => "");
    if (!state.fetched) await new Promise((ok) => setTimeout(ok, 200));
  }
  return state;
}

if (wanted("sveltekit")) {
  console.log("toolchains: SvelteKit");
  // The package in devDependencies, as SvelteKit's docs put everything; no configuration of it.
  // @sveltejs/adapter-node, the common server adapter: it runs Rollup over the server build and
  // bundles every devDependency into build/, which then runs with no node_modules. A server load
  // answers a query, the page's client code answers it again after init().
  const tarballName = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
  const dir = project("sveltekit", {
    "svelte.config.js": 'import adapter from "@sveltejs/adapter-node";\nexport default { kit: { adapter: adapter() } };\n',
    "vite.config.js": 'import { sveltekit } from "@sveltejs/kit/vite";\nexport default { plugins: [sveltekit()], logLevel: "warn" };\n',
    "src/app.html": '<!doctype html>\n<html lang="en"><head><title>loading</title><link rel="icon" href="data:,">%sveltekit.head%</head><body><div>%sveltekit.body%</div></body></html>\n',
    "src/routes/+page.server.js": `import { Snapshot, getIdentityLinks } from "identity-links";\nconst snapshot = Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","assignee":"ann"}]}');\nexport function load() {\n  return { server: JSON.stringify(getIdentityLinks(snapshot, { taskId: "t" })) };\n}\n`,
    "src/routes/+page.svelte": `<script>
  import { onMount } from "svelte";
  import init, { Snapshot, getIdentityLinks } from "identity-links";
  let { data } = $props();
  onMount(async () => {
    await init();
    const answer = JSON.stringify(getIdentityLinks(Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","assignee":"ann"}]}'), { taskId: "t" }));
    document.title = answer === data.server ? answer : \`client \${answer} / server \${data.server}\`;
  });
</script>
<pre>{data.server}</pre>
`,
  }, { dependencies: {}, devDependencies: { "identity-links": `file:../${tarballName}` } });
  const vite = join(root, "node_modules/vite/bin/vite.js");
  const answered = (page) => page.includes(expected.replace(/"/g, "&quot;")) || page.includes(expected);
  const built = run("node", [vite, "build"], { cwd: dir });
  check("SvelteKit with adapter-node (package in devDependencies): vite build", built.code === 0, built.out.slice(-3000));
  if (built.code === 0) {
    // Vite's own server output (the package external, loaded by Node), through `vite preview`.
    const port = 30000 + Math.floor(Math.random() * 20000);
    const preview = await startServer([vite, "preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir }, `http://127.0.0.1:${port}/`);
    preview.stop();
    check("SvelteKit: vite preview, the server load answers (in the rendered page)", answered(preview.fetched), `${preview.fetched.slice(0, 1500)}\n${preview.log}`);
    // adapter-node's build/ (the package bundled in it), moved with package.json (as the
    // adapter's docs deploy it) out of the repository, so that no node_modules is reachable.
    const away = mkdtempSync(join(tmpdir(), "identity-links-sveltekit-"));
    cpSync(join(dir, "build"), join(away, "build"), { recursive: true });
    cpSync(join(dir, "package.json"), join(away, "package.json"));
    const nodePort = 30000 + Math.floor(Math.random() * 20000);
    const base = `http://127.0.0.1:${nodePort}/`;
    const server = await startServer(["build"], { cwd: away, env: { ...process.env, HOST: "127.0.0.1", PORT: String(nodePort) } }, base);
    try {
      check("SvelteKit: adapter-node's build, moved, the server load answers (in the rendered page)", answered(server.fetched), `${server.fetched.slice(0, 1500)}\n${server.log}`);
      for (const browser of BROWSERS) {
        const title = await titleIn(browser, base);
        check(`SvelteKit: adapter-node's build, moved, the page answers in ${browser}`, title === expected, `${title}\n${server.log}`);
      }
    } finally {
      server.stop();
      rmSync(away, { recursive: true, force: true });
    }
    // Vite's SSR build bundling the package itself (`ssr.noExternal`, as Vite does for linked
    // packages): the server output, loaded at build time by SvelteKit's analysis, then served.
    writeFileSync(join(dir, "vite.noexternal.config.js"), 'import { sveltekit } from "@sveltejs/kit/vite";\nexport default { plugins: [sveltekit()], logLevel: "warn", ssr: { noExternal: ["identity-links"] } };\n');
    const inlined = run("node", [vite, "build", "--config", "vite.noexternal.config.js"], { cwd: dir });
    let page = inlined.out.slice(-3000);
    if (inlined.code === 0) {
      const port = 30000 + Math.floor(Math.random() * 20000);
      const served = await startServer([vite, "preview", "--config", "vite.noexternal.config.js", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir }, `http://127.0.0.1:${port}/`);
      served.stop();
      page = served.fetched || served.log;
    }
    check("SvelteKit, Vite's SSR build bundling the package (ssr.noExternal): builds, and the server load answers", inlined.code === 0 && answered(page), page.slice(0, 3000));
  }
}

for (const b of browsers.values()) await b.close();
