'use strict';
// Node (CommonJS): wasm-bindgen's nodejs build instantiates the module synchronously on
// require, so init() and initSync() have nothing left to do. api.cjs is api.js, made CommonJS
// by the build.
const glue = require('./identity_links.js');
const { checkAbi, install } = require('./api.cjs');

/** Resolves at once: the module is already instantiated. */
function init() {
  return Promise.resolve();
}

/** Does nothing: the module is already instantiated. */
function initSync() {}

checkAbi(glue);
module.exports = Object.assign(install(glue), { default: init, init, initSync });
