// The WebGPU inference engine: public entry points.
export { loadModel, isDiffusionModel, isAutoregressiveModel, ModelIntegrityError, sha256Hex, type EngineModel, type LoadOptions, type LoadProgress, type ModelFiles } from './load';
export { DeviceLostError, GpuAutoregressiveModel, GpuDiffusionModel, type EngineModelInfo } from './models';
export { adapterKey, chooseMatmulVariant, MemoryStore, sharedVariantStore, type KeyValueStore } from './matmul_choice';
export type { MatmulVariant } from './shaders';
export type * from './types';
