/**
 * The part of the WebAssembly JS API that src/randoms/count-wasm.ts uses:
 * @types/node leaves WebAssembly to lib.dom, which a server does not load.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
