/**
 * The compiled module, as workerd, wrangler and bundlers with WebAssembly module support import a
 * `.wasm` file: pass it to `initSync({ module })` or `init({ module_or_path })`.
 */
import type { WasmModule } from "./index.js";

declare const module: WasmModule;
export default module;
