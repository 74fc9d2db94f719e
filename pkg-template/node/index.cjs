'use strict';
// Node (CommonJS): wasm-bindgen's nodejs build instantiates the module synchronously on
// require, so init() and initSync() have nothing left to do.
const wasm = require('./identity_links.js');

/** Resolves at once: the module is already instantiated. */
function init() {
  return Promise.resolve();
}

/** Does nothing: the module is already instantiated. */
function initSync() {}

// wasm-bindgen also exports the start function (the panic hook); it runs on load, so leave it out.
const { start, ...api } = wasm;

module.exports = Object.assign(api, { default: init, init, initSync });
