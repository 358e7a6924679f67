// Types of build-wasm.mjs (for the test that checks the committed .wasm files are fresh).
export declare const VARIANTS: Record<string, string[]>;
export declare function buildVariant(name: string): Promise<Uint8Array>;
export declare function buildAll(): Promise<Record<string, Uint8Array>>;
