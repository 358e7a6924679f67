// Public API of the samplers. The worker uses SamplerHost (./host); src/protocol.ts re-exports ./types.

export { generate, infill, denoise } from './sampler';
export { generateAutoregressive } from './autoregressive';
export { SamplerHost, NoModelError, DEFAULT_MODEL_ID, type TextCodec } from './host';
export { applyStep, layoutGenerate, layoutInfill, resolveKnobs, RequestError, type ResolvedKnobs } from './request';
export { numTransferTokens, splitBlocks } from './schedule';
export * from './types';
