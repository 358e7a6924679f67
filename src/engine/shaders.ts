// The WGSL sources of shaders/, imported as text, and the small compile-time rewrites the engine
// applies (WGSL has no #include or template parameters).

import attentionWgsl from '../../shaders/attention.wgsl?raw';
import decideWgsl from '../../shaders/decide.wgsl?raw';
import embedWgsl from '../../shaders/embed.wgsl?raw';
import embedInt8Wgsl from '../../shaders/embed_int8.wgsl?raw';
import matmulBlockedWgsl from '../../shaders/matmul_blocked.wgsl?raw';
import matmulEpilogueWgsl from '../../shaders/matmul_epilogue.wgsl?raw';
import matmulInt8Wgsl from '../../shaders/matmul_int8.wgsl?raw';
import matmulRowsWgsl from '../../shaders/matmul_rows.wgsl?raw';
import matmulTiledWgsl from '../../shaders/matmul_tiled.wgsl?raw';
import rmsnormWgsl from '../../shaders/rmsnorm.wgsl?raw';
import ropeStoreKvWgsl from '../../shaders/rope_store_kv.wgsl?raw';

/** Matmul kernels: out = A · Wᵀ (see each file). */
export type MatmulKernel = 'tiled' | 'blocked' | 'rows' | 'int8';
/** The prefill matmul variants chosen between per adapter. */
export type MatmulVariant = 'tiled' | 'blocked';

/** What a matmul does with its result (shaders/matmul_epilogue.wgsl). */
export const Epilogue = { Store: 0, Accumulate: 1, SwiGLU: 2 } as const;
export type Epilogue = (typeof Epilogue)[keyof typeof Epilogue];

const MATMUL_SOURCES: Record<MatmulKernel, { code: string; entryPoint: string }> = {
  tiled: { code: matmulTiledWgsl, entryPoint: 'matmul_tiled' },
  blocked: { code: matmulBlockedWgsl, entryPoint: 'matmul_blocked' },
  rows: { code: matmulRowsWgsl, entryPoint: 'matmul_rows' },
  int8: { code: matmulInt8Wgsl, entryPoint: 'matmul_int8' },
};

export function matmulSource(kernel: MatmulKernel): { code: string; entryPoint: string } {
  const s = MATMUL_SOURCES[kernel];
  return { code: `${matmulEpilogueWgsl}\n${s.code}`, entryPoint: s.entryPoint };
}

/** attention.wgsl with its HD4 (= head_dim / 4) constant set. */
export function attentionSource(headDim: number): { code: string; entryPoint: string } {
  if (headDim % 4 !== 0 || headDim <= 0) throw new Error(`attention: head_dim ${headDim} must be a positive multiple of 4`);
  const marker = /const HD4: u32 = \d+u;/;
  if (!marker.test(attentionWgsl)) throw new Error('attention.wgsl: HD4 constant line not found');
  return { code: attentionWgsl.replace(marker, `const HD4: u32 = ${headDim / 4}u;`), entryPoint: 'attend' };
}

export const SOURCES = {
  embed: { code: embedWgsl, entryPoint: 'gather_embeddings' },
  embed_int8: { code: embedInt8Wgsl, entryPoint: 'gather_embeddings_int8' },
  rmsnorm: { code: rmsnormWgsl, entryPoint: 'normalize_rows' },
  rope: { code: ropeStoreKvWgsl, entryPoint: 'rotate_and_store_kv' },
  decide: { code: decideWgsl, entryPoint: 'decide' },
} as const;
