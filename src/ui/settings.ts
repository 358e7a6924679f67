// Generation settings: the knobs the Settings panel edits, their defaults, their validation when
// read back from localStorage, and how they become sampler knobs (src/diffusion/types.ts).

import type { SamplerKnobs } from '../protocol';

/**
 * How masked positions get committed (maps to the sampler's schedule + blockLength). 'model': the
 * model's own default decoding at threshold τ (a block-causal model: blocks of its block_size
 * against the KV cache, each step the confident run from the block's first mask).
 */
export type Strategy = 'model' | 'fixed' | 'blocks' | 'threshold' | 'entropy';

export interface Settings {
  /** Diffusion model id; null = the best shipped one (models/index.json). */
  modelId: string | null;
  /** Autoregressive twin for Race; null = the twin named like the diffusion model. */
  arModelId: string | null;
  /** New tokens (the masked span's length). */
  genLength: number;
  strategy: Strategy;
  /** Total steps (fixed, blocks). */
  steps: number;
  /** Confidence threshold τ (threshold; model: a block-causal model drafts tokens at least this sure). */
  tau: number;
  /** Entropy budget γ in nats (strategy 'entropy': the EB-sampler, UnmaskSchedule entropyBound). */
  gamma: number;
  /** Block length (blocks, threshold, entropy). */
  blockLength: number;
  temperature: number;
  seed: number;
  /** Re-mask low-probability committed tokens (ReMDM-style error correction). */
  revision: boolean;
  /** Inline completions (ghost text) after a pause in typing. */
  autocomplete: boolean;
  /** Engine for the models: auto (the worker picks), WebGPU, or the CPU engine (WebAssembly). */
  engine: 'auto' | 'webgpu' | 'cpu';
  /**
   * The sampler's syntax hook: tokens that break the Python syntax of the text, or after which it
   * could not end cleanly in the span's tokens left, are re-decided (off in Race, for both lanes).
   */
  syntaxCheck: boolean;
  /**
   * Fill selection: beams searched besides the decoded fill (and the lines in view), all scored by
   * how likely the fill and the suffix after it read, the likeliest ones' consensus kept
   * (SamplerKnobs.candidates; 1: off; block-causal models, model default decoding).
   */
  fillCandidates: number;
  /** After a run, run the doctests and asserts of the code (Pyodide), when it has any. */
  runTests: boolean;
  /** "Generate until the tests pass": most attempts (seeds), and the time budget of all of them, s. */
  attempts: number;
  attemptSeconds: number;
}

export const DEFAULT_SETTINGS: Settings = {
  modelId: null,
  arModelId: null,
  genLength: 64,
  strategy: 'model',
  steps: 32,
  tau: 0.3,
  gamma: 0.5,
  blockLength: 8, // the shipped block-causal models' block_size
  temperature: 0,
  seed: 0,
  revision: false,
  autocomplete: true,
  engine: 'auto',
  syntaxCheck: true,
  fillCandidates: 4, // as good as 8 at 56% of the time (bench/README.md "How many beams")
  runTests: true,
  attempts: 4,
  attemptSeconds: 60,
};

export const LIMITS = {
  genLength: { min: 4, max: 512 },
  steps: { min: 1, max: 1024 },
  tau: { min: 0.05, max: 1 },
  gamma: { min: 0.01, max: 4 },
  blockLength: { min: 1, max: 512 },
  fillCandidates: { min: 1, max: 32 },
  temperature: { min: 0, max: 2 },
  seed: { min: 0, max: 0xffffffff },
  attempts: { min: 1, max: 16 },
  attemptSeconds: { min: 5, max: 600 },
} as const;

export const STORAGE_KEY = 'quicksilver.settings.v2';
/** Settings saved before the model-default strategy: read for the fields that kept their meaning. */
export const OLD_STORAGE_KEY = 'quicksilver.settings.v1';

function clampInt(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback;
}

function clampNum(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

/** Any stored value -> valid Settings (unknown or broken fields take their defaults). */
export function sanitize(raw: unknown): Settings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = DEFAULT_SETTINGS;
  const id = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v) ? v : null);
  return {
    modelId: id(r.modelId),
    arModelId: id(r.arModelId),
    genLength: clampInt(r.genLength, LIMITS.genLength.min, LIMITS.genLength.max, d.genLength),
    strategy: r.strategy === 'model' || r.strategy === 'fixed' || r.strategy === 'blocks' || r.strategy === 'threshold' || r.strategy === 'entropy' ? r.strategy : d.strategy,
    steps: clampInt(r.steps, LIMITS.steps.min, LIMITS.steps.max, d.steps),
    tau: clampNum(r.tau, LIMITS.tau.min, LIMITS.tau.max, d.tau),
    gamma: clampNum(r.gamma, LIMITS.gamma.min, LIMITS.gamma.max, d.gamma),
    blockLength: clampInt(r.blockLength, LIMITS.blockLength.min, LIMITS.blockLength.max, d.blockLength),
    temperature: clampNum(r.temperature, LIMITS.temperature.min, LIMITS.temperature.max, d.temperature),
    seed: clampInt(r.seed, LIMITS.seed.min, LIMITS.seed.max, d.seed),
    revision: typeof r.revision === 'boolean' ? r.revision : d.revision,
    autocomplete: typeof r.autocomplete === 'boolean' ? r.autocomplete : d.autocomplete,
    engine: r.engine === 'auto' || r.engine === 'webgpu' || r.engine === 'cpu' ? r.engine : d.engine,
    syntaxCheck: typeof r.syntaxCheck === 'boolean' ? r.syntaxCheck : d.syntaxCheck,
    fillCandidates: clampInt(r.fillCandidates, LIMITS.fillCandidates.min, LIMITS.fillCandidates.max, d.fillCandidates),
    runTests: typeof r.runTests === 'boolean' ? r.runTests : d.runTests,
    attempts: clampInt(r.attempts, LIMITS.attempts.min, LIMITS.attempts.max, d.attempts),
    attemptSeconds: clampInt(r.attemptSeconds, LIMITS.attemptSeconds.min, LIMITS.attemptSeconds.max, d.attemptSeconds),
  };
}

/**
 * Revision of the saved settings (a field `v` beside them). Before 2 (2026-12-05), Fill's beams
 * defaulted to 8; every save stored every field, so a stored 8 is the old default, not a choice,
 * and becomes the new one (4: as good at about half the time, bench/README.md "How many beams").
 */
const SETTINGS_REVISION = 2;

export function loadSettings(storage: Pick<Storage, 'getItem'> | undefined): Settings {
  try {
    const text = storage?.getItem(STORAGE_KEY);
    if (text) {
      const raw = JSON.parse(text) as { v?: unknown };
      const s = sanitize(raw);
      if (raw?.v === undefined && s.fillCandidates === 8) s.fillCandidates = DEFAULT_SETTINGS.fillCandidates;
      return s;
    }
    // v1 (before the block-causal default model): keep the user's choices except the decoding
    // strategy and its knobs, which were tuned for the old models
    const old = storage?.getItem(OLD_STORAGE_KEY);
    if (!old) return { ...DEFAULT_SETTINGS };
    const d = DEFAULT_SETTINGS;
    return { ...sanitize(JSON.parse(old)), strategy: d.strategy, tau: d.tau, steps: d.steps, blockLength: d.blockLength, modelId: null, arModelId: null };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(storage: Pick<Storage, 'setItem'> | undefined, s: Settings): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify({ ...s, v: SETTINGS_REVISION }));
  } catch {
    // Private mode / quota: settings just do not persist.
  }
}

/**
 * The sampler knobs for a run of `genLength` new tokens (callers cap it to the model's context).
 * Always `truncate`: a long prompt loses its oldest lines rather than failing.
 */
export function knobsFor(s: Settings, genLength = s.genLength): SamplerKnobs {
  if (s.strategy === 'model') {
    // blockLength and commitOrder: the sampler's defaults for the model (request.ts resolveKnobs)
    const knobs: SamplerKnobs = {
      genLength, temperature: s.temperature, seed: s.seed, truncate: true,
      schedule: { kind: 'threshold', tau: s.tau, maxSteps: genLength * (s.revision ? 2 : 1) },
    };
    // revision re-masks tokens inside a block, which verified decoding has no use for: with it on,
    // tokens are committed in order inside blocks (and re-masked there when unlikely)
    if (s.revision) {
      knobs.revision = { rho: 0.25, maxPerStep: 2, maxPerPosition: 1 };
      knobs.commitOrder = 'leftToRight';
    }
    // the Python syntax check works on verified decoding (the model default without revision)
    if (s.syntaxCheck && !s.revision) knobs.syntaxCheck = true;
    return knobs;
  }
  const blockLength = s.strategy === 'fixed' ? genLength : Math.min(s.blockLength, genLength);
  const blocks = Math.ceil(genLength / blockLength);
  const most = genLength * (s.revision ? 2 : 1); // steps: one token each (twice over with revision)
  const knobs: SamplerKnobs = {
    genLength,
    blockLength,
    // the diffusion schedules these strategies name, on any model: positions committed by the
    // model's confidence (a block-causal model would otherwise default to draft + verify)
    commitOrder: 'confidence',
    temperature: s.temperature,
    seed: s.seed,
    truncate: true,
    schedule:
      s.strategy === 'threshold'
        ? { kind: 'threshold', tau: s.tau, maxSteps: Math.max(blocks, most) }
        : s.strategy === 'entropy'
          ? { kind: 'entropyBound', gamma: s.gamma, maxSteps: Math.max(blocks, most) }
          : { kind: 'fixed', steps: Math.max(blocks, Math.min(s.steps, most)) },
  };
  if (s.revision) knobs.revision = { rho: 0.25, maxPerStep: 2, maxPerPosition: 1 };
  return knobs;
}

/** Fill selection's knobs: `knobs` plus the candidates ranked (block-causal models, model default decoding). */
export function fillKnobs(knobs: SamplerKnobs, s: Settings, blockCausal: boolean): SamplerKnobs {
  return blockCausal && s.strategy === 'model' && !s.revision && s.fillCandidates > 1 ? { ...knobs, candidates: s.fillCandidates } : knobs;
}

/** New tokens that fit a model of context `maxSeqLen` and still leave room for some prompt. */
export function fitGenLength(want: number, maxSeqLen: number): number {
  return Math.max(1, Math.min(want, maxSeqLen - Math.min(32, Math.floor(maxSeqLen / 4))));
}

/**
 * The pause in typing before a completion request from the URL (`?completionDelay=<ms>`, an
 * integer 0..2000, for trying other values: bench/typing.mjs), or undefined for the library's
 * default (COMPLETION_DEBOUNCE_MS). Anything else is ignored.
 */
export function completionDelayFromUrl(search: string): number | undefined {
  const v = new URLSearchParams(search).get('completionDelay');
  if (v === null || !/^\d{1,4}$/.test(v)) return undefined;
  const ms = Number(v);
  return ms <= 2000 ? ms : undefined;
}
