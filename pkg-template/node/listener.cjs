'use strict';
// identity-links/node for CommonJS: createNodeListener over the package's Node instance.
// listener-core.cjs is listener.js, made CommonJS by the build.
const api = require('./index.cjs');
const { listenerFor } = require('./listener-core.cjs');

exports.createNodeListener = listenerFor(api);
