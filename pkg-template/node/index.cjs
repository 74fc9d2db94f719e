'use strict';
// Node (CommonJS): wasm-bindgen's nodejs build instantiates the module synchronously on
// require, so init() and initSync() have nothing left to do. api.cjs is api.js, made CommonJS
// by the build. The exports are assigned one by one, so that tools that read CommonJS exports
// without running the file (Node's ES module loader, bundlers, type checkers) see every name:
// scripts/build.sh appends `exports.<name> = api.<name>;` for every named export of ../index.js,
// where the names are written once.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const glue = require('./identity_links.js');
const { checkAbi, install } = require('./api.cjs');
const { createZitadelVerifier } = require('./auth/zitadel-token.cjs');

/** Resolves at once: the module is already instantiated. */
function init() {
  return Promise.resolve();
}

/** Does nothing: the module is already instantiated. */
function initSync() {}

/** The compiled module, for fromJson's throwaway instances: compiled again from the same file, once. */
let compiled = null;
const compiledModule = () => (compiled ??= new WebAssembly.Module(readFileSync(join(__dirname, 'identity_links_bg.wasm'))));

checkAbi(glue);
const api = { ...install(glue, compiledModule, { createZitadelVerifier }), initSync };
// `import init from "identity-links"` compiled to CommonJS (TypeScript, Babel) reads `.default`
// when the module says it was an ES module.
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = init;
exports.init = init;
