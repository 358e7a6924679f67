// Test-only helpers shared by the two engines' golden checks (golden.test.ts for WebGPU,
// cpu/forward.test.ts for WASM): the shipped model folders, their files, and the comparison of an
// engine's logits and greedy decisions with PyTorch's golden.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import type { ModelFiles } from './load';
import { relError } from './reference';
import type { BlockStep, Decisions, DecideOptions, ModelConfig } from './types';

/** A full-forward case (format 1, and AR models): logits at `positions` of `input_ids`. */
export interface GoldenForwardCase {
  input_ids: number[];
  positions: number[];
  logits: number[][];
}

/** A block-causal case: one uncached block step, logits predicting each block position. */
export interface GoldenBlockCase {
  context: number[];
  context_positions: number[];
  block: number[];
  block_pos0: number;
  /** Block offsets whose logits are stored (logits[i] predicts position block_pos0 + offsets[i]). */
  offsets: number[];
  logits: number[][];
}

export type GoldenCase = GoldenForwardCase | GoldenBlockCase;

/** public/models/ */
export const MODELS = resolve(__dirname, '../../public/models');

/** Model folders that ship a golden.json, sorted. */
export const goldenDirs: string[] = existsSync(MODELS)
  ? readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, 'golden.json'))).sort()
  : [];

/** The files a loader takes (config, weights, and the manifest when present). */
export function modelFiles(dir: string): ModelFiles {
  const files: ModelFiles = {};
  for (const name of ['config.json', 'model.safetensors', 'manifest.json']) {
    const p = join(MODELS, dir, name);
    if (existsSync(p)) files[name] = new Uint8Array(readFileSync(p));
  }
  return files;
}

export function readGolden(dir: string): GoldenCase[] {
  const cases = (JSON.parse(readFileSync(join(MODELS, dir, 'golden.json'), 'utf8')) as { cases: GoldenCase[] }).cases;
  expect(cases.length).toBeGreaterThan(0);
  return cases;
}

/**
 * One case: the engine's logits at the listed positions within relative error 1e-3 of PyTorch's;
 * with `decide` (diffusion models), greedy decisions pick PyTorch's argmax (mask excluded)
 * wherever PyTorch's top two logits are more than 1e-3 apart.
 */
export async function expectGoldenCase(
  model: {
    config: ModelConfig;
    logits(tokens: Int32Array): Promise<Float32Array>;
    decide?(tokens: Int32Array, positions: Int32Array, opts: DecideOptions): Promise<Decisions>;
    blockLogits?(step: BlockStep, uncached: boolean): Promise<Float32Array>;
    decideBlock?(step: BlockStep, opts: DecideOptions): Promise<Decisions>;
  },
  c: GoldenCase,
  label: string,
): Promise<void> {
  if ('context' in c) return expectGoldenBlockCase(model, c, label);
  const V = model.config.vocab_size;
  const mask = model.config.special_tokens.mask;
  const tokens = Int32Array.from(c.input_ids);
  const logits = await model.logits(tokens);
  const got: number[] = [];
  const want: number[] = [];
  c.positions.forEach((p, i) => {
    expect(c.logits[i].length).toBe(V);
    got.push(...logits.subarray(p * V, (p + 1) * V));
    want.push(...c.logits[i]);
  });
  expect(relError(got, want), `${label} (L = ${tokens.length})`).toBeLessThanOrEqual(1e-3);
  if (!model.decide) return;
  const d = await model.decide(tokens, Int32Array.from(c.positions), { temperature: 0, seed: 0, step: 0 });
  c.positions.forEach((p, i) => {
    const order = c.logits[i].map((v, t) => [t === mask ? -Infinity : v, t]).sort((a, b) => b[0] - a[0]);
    if (order[0][0] - order[1][0] > 1e-3 * Math.max(1, Math.abs(order[0][0]))) {
      expect(d.token[i], `${label} position ${p}`).toBe(order[0][1]);
    }
  });
}

/**
 * A block-causal case: the uncached block step and the same step through the cache (after a
 * shorter context was cached) within 1e-3 of PyTorch; greedy decideBlock picks PyTorch's argmax
 * where the top two are apart.
 */
async function expectGoldenBlockCase(
  model: {
    config: ModelConfig;
    blockLogits?(step: BlockStep, uncached: boolean): Promise<Float32Array>;
    decideBlock?(step: BlockStep, opts: DecideOptions): Promise<Decisions>;
  },
  c: GoldenBlockCase,
  label: string,
): Promise<void> {
  expect(model.blockLogits, `${label}: a block-causal model has blockLogits`).toBeTypeOf('function');
  const V = model.config.vocab_size;
  const mask = model.config.special_tokens.mask;
  const B = c.block.length;
  const step: BlockStep = {
    context: Int32Array.from(c.context), contextPositions: Int32Array.from(c.context_positions),
    block: Int32Array.from(c.block), blockPos0: c.block_pos0, offsets: Int32Array.from({ length: B }, (_, i) => i),
  };
  const want = c.logits.flat();
  expect(want.length).toBe(c.offsets.length * V);
  const pick = (all: Float32Array) => c.offsets.flatMap((o) => Array.from(all.subarray(o * V, (o + 1) * V)));
  expect(relError(pick(await model.blockLogits!(step, true)), want), `${label} uncached (C = ${c.context.length}, B = ${B})`).toBeLessThanOrEqual(1e-3);
  const half = Math.max(1, c.context.length >> 1);
  await model.blockLogits!({ ...step, context: step.context.slice(0, half), contextPositions: step.contextPositions.slice(0, half), blockPos0: step.contextPositions[half - 1] + 1 }, true);
  expect(relError(pick(await model.blockLogits!(step, false)), want), `${label} cached`).toBeLessThanOrEqual(1e-3);
  const d = await model.decideBlock!({ ...step, offsets: Int32Array.from(c.offsets) }, { temperature: 0, seed: 0, step: 0 });
  c.logits.forEach((row, i) => {
    const order = row.map((v, t) => [t === mask ? -Infinity : v, t]).sort((a, b) => b[0] - a[0]);
    if (order[0][0] - order[1][0] > 1e-3 * Math.max(1, Math.abs(order[0][0]))) expect(d.token[i], `${label} offset ${c.offsets[i]}`).toBe(order[0][1]);
  });
}
