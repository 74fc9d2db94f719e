// TextEncoder and TextDecoder for the glue and the wrapper: the global ones, or Node's where a
// test environment leaves them out of its globals (Jest's jsdom environment runs in Node but
// gives neither), so that no polyfill is needed. Nothing is added to the globals.
const global = globalThis;
const found = typeof global.TextEncoder === "function" && typeof global.TextDecoder === "function" ? global : global.process?.getBuiltinModule?.("node:util");
if (typeof found?.TextDecoder !== "function" || typeof found?.TextEncoder !== "function") {
  throw new Error("identity-links needs TextEncoder and TextDecoder: global ones, or Node's (node:util, through process.getBuiltinModule)");
}

export const { TextEncoder, TextDecoder } = found;
