#!/usr/bin/env bash
# Builds the npm package in pkg/: the release wasm, wasm-bindgen's web (ESM) and nodejs (CJS)
# glue, wasm-opt, and pkg-template/ around them. Run by `make build`; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

wasm=target/wasm32-unknown-unknown/release/identity_links.wasm
cargo build --quiet --lib --target wasm32-unknown-unknown --release

out=${PKG_DIR:-pkg} # PKG_DIR: build elsewhere (for instance while pkg/ is in use)
# A staging folder of its own, so that concurrent builds cannot mix their files.
mkdir -p target
stage=$(mktemp -d target/pkg-stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage" && mkdir -p "$stage/node"
wasm-bindgen --target web --no-typescript --out-dir "$stage" "$wasm"
wasm-bindgen --target nodejs --no-typescript --out-dir "$stage/node" "$wasm"

# wasm-opt from the npm package binaryen (Debian's 108 cannot parse table.fill); the low kilobyte
# of memory is the stack's far end (docs/decisions/0014).
opt=node_modules/.bin/wasm-opt
features=(--enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int --enable-sign-ext --enable-multivalue --enable-mutable-globals)
for f in "$stage/identity_links_bg.wasm" "$stage/node/identity_links_bg.wasm"; do
  "$opt" --reorder-functions-by-name -Oz --converge --low-memory-unused --strip-producers --strip-target-features "${features[@]}" "$f" -o "$f.opt" && mv "$f.opt" "$f"
done

cp -R pkg-template/. "$stage/"
# The .wasm's bytes as base64 in a module, for node/embedded.mjs (Node bundlers that emit no
# asset for `new URL(..., import.meta.url)`: the bytes travel inside the bundle).
node -e '
  const { readFileSync, writeFileSync } = require("node:fs");
  const [wasm, out] = process.argv.slice(1);
  writeFileSync(out, `// identity_links_bg.wasm, as base64 (written by scripts/build.sh, for embedded.mjs).\nexport default "${readFileSync(wasm).toString("base64")}";\n`);
' "$stage/identity_links_bg.wasm" "$stage/node/wasm-base64.mjs"
# TextEncoder and TextDecoder come from text.js (the globals, or Node's where an environment such
# as Jest's jsdom lacks them): the glue imports them instead of reading the globals, and the
# Node glue and api.cjs require a CommonJS copy (node/ is a CommonJS folder, so node/text.js is one).
sed -i '1i import { TextDecoder, TextEncoder } from "./text.js";' "$stage/identity_links.js"
sed -i "1i const { TextDecoder, TextEncoder } = require('./text.js');" "$stage/node/identity_links.js"
node_modules/.bin/esbuild pkg-template/text.js --format=cjs --log-level=warning --outfile="$stage/node/text.js"
# The package's named exports are written once, in index.js. The Node entries share the CommonJS
# instance rather than re-exporting index.js, so they get the same names here, as declarations
# that loaders see without running the code: `exports.<name> = api.<name>;` in node/index.cjs
# (cjs-module-lexer: Node's ES module loader, bundlers, type checkers) and one
# `export const { ... } = cjs;` in node/index.mjs. esbuild reads index.js's names (a parser, not
# a pattern); `default` is init, which each entry defines itself.
node -e '
  const { buildSync } = require("esbuild");
  const { appendFileSync } = require("node:fs");
  const [entry, node] = process.argv.slice(1);
  const built = buildSync({ entryPoints: [entry], format: "esm", write: false, metafile: true, outfile: "names.js", logLevel: "warning" });
  const names = Object.values(built.metafile.outputs)[0].exports.filter((name) => name !== "default");
  if (names.length === 0) throw new Error(`no named exports found in ${entry}`);
  appendFileSync(`${node}/index.cjs`, names.map((name) => `exports.${name} = api.${name};\n`).join(""));
  appendFileSync(`${node}/index.mjs`, `\nexport const { ${names.join(", ")} } = cjs;\n`);
' pkg-template/index.js "$stage/node"
# The JS wrapper is written once, as ES modules; Node's CommonJS entry gets a converted copy.
node_modules/.bin/esbuild pkg-template/api.js --format=cjs --log-level=warning --outfile="$stage/node/api.cjs"
node_modules/.bin/esbuild pkg-template/listener.js --format=cjs --platform=node --log-level=warning --outfile="$stage/node/listener-core.cjs"
# The Zitadel token verifier likewise; its `import("jose/...")` calls stay dynamic imports, which load
# jose (an ES module only) from CommonJS in every Node version.
node_modules/.bin/esbuild pkg-template/auth/zitadel-token.js --format=cjs --log-level=warning --outfile="$stage/node/auth/zitadel-token.cjs"
# CommonJS consumers get the same declarations under the .d.cts name TypeScript expects.
cp pkg-template/index.d.ts "$stage/index.d.cts"
# The Node listener's ES module entry gets the declarations under the .d.mts name (its folder is
# CommonJS, where .d.ts means CommonJS).
cp pkg-template/node/listener.d.ts "$stage/node/listener.d.mts"
cp LICENSE "$stage/LICENSE"
# The size budget (README, docs/performance.md): a module over it fails the build and leaves
# $out as it was, so that no change goes over it unnoticed. WASM_GZIP_BUDGET: to check this check.
raw=$(wc -c < "$stage/identity_links_bg.wasm")
gz=$(gzip -9 -c "$stage/identity_links_bg.wasm" | wc -c)
budget=${WASM_GZIP_BUDGET:-100000}
if [ "$gz" -gt "$budget" ]; then
  echo "build.sh: identity_links_bg.wasm is $gz bytes gzipped (gzip -9, $raw raw), over the budget of $budget bytes;" >&2
  echo "  $out/ is left as it was. Find what grew with twiggy (docs/performance.md, \"Module size\")." >&2
  exit 1
fi
rm -rf "$out.old" && { [ ! -e "$out" ] || mv "$out" "$out.old"; } && mv "$stage" "$out" && rm -rf "$out.old"
echo "built $out/: identity_links_bg.wasm $raw bytes, $gz gzipped (budget $budget)"
