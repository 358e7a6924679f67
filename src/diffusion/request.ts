// Request validation, defaults, and the starting canvas. Every rejection is a RequestError with a
// message that names the offending field.

import type { ModelConfig } from '../engine/types';
import type {
  CanvasLayout,
  CommitOrder,
  ConfidenceMeasure,
  GenerateRequest,
  InfillRequest,
  SamplerKnobs,
  StepEvent,
} from './types';

/** A request the sampler refuses to run; the message says which field and why. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Knobs with defaults filled in and every value checked. */
export interface ResolvedKnobs {
  genLength: number;
  schedule:
    | { kind: 'fixed'; steps: number }
    | { kind: 'fixed'; tokensPerStep: number }
    | { kind: 'threshold'; tau: number; maxSteps: number }
    | { kind: 'entropyBound'; gamma: number; maxSteps: number };
  confidence: ConfidenceMeasure;
  blockLength: number;
  commitOrder: CommitOrder;
  draftLength: 'adaptive' | 'block';
  lookup: number;
  lookupMatch: number;
  /** null: the engine's model.rowCost. */
  rowCost: number | null;
  temperature: number;
  seed: number;
  revision: { rho: number; maxPerStep: number; maxPerPosition: number; finalSteps: number } | null;
  reuseForward: boolean;
  dualCache: boolean;
  previews: boolean;
  /** SamplerKnobs.suffixEndsText (a boolean; default false). */
  suffixEndsText: boolean;
  /** SamplerKnobs.fillBeginsLine (a boolean; default false). */
  fillBeginsLine: boolean;
  endsInOrder: boolean;
  /** Infill: beams ranked against the decoded fill (1: off). */
  candidates: number;
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function requirePositiveInt(value: unknown, name: string): number {
  if (!isInt(value) || value < 1) throw new RequestError(`${name} must be an integer >= 1, got ${String(value)}`);
  return value;
}

function requireBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new RequestError(`${name} must be true or false, got ${String(value)}`);
  return value;
}

function requireUnitInterval(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new RequestError(`${name} must be in (0, 1], got ${String(value)}`);
  }
  return value;
}

function checkTokens(ids: unknown, name: string, config: ModelConfig): number[] {
  if (!Array.isArray(ids)) throw new RequestError(`${name} must be an array of token ids`);
  ids.forEach((t, i) => {
    if (!isInt(t) || t < 0 || t >= config.vocab_size) {
      throw new RequestError(`${name}[${i}] = ${String(t)} is not a token id in [0, ${config.vocab_size})`);
    }
    if (t === config.special_tokens.mask) throw new RequestError(`${name}[${i}] is the mask token; fixed text cannot contain it`);
  });
  return ids as number[];
}

/** True for a diffusion model decoded block by block against a KV cache (format 2). */
export function isBlockCausal(config: Pick<ModelConfig, 'attention'> | undefined): boolean {
  return config?.attention === 'block_causal';
}

/**
 * Validate the knobs shared by the diffusion samplers and fill in defaults (`config`: the model's,
 * for the block-causal defaults of blockLength and commitOrder).
 */
export function resolveKnobs(req: SamplerKnobs, config?: Pick<ModelConfig, 'attention' | 'block_size'>): ResolvedKnobs {
  const genLength = requirePositiveInt(req.genLength, 'genLength');
  const blockCausal = isBlockCausal(config);
  const defaultBlock = blockCausal && config?.block_size ? config.block_size : genLength;
  const blockLength = Math.min(
    req.blockLength === undefined ? defaultBlock : requirePositiveInt(req.blockLength, 'blockLength'),
    genLength,
  );
  const commitOrder = req.commitOrder ?? (blockCausal ? 'verify' : 'confidence');
  if (commitOrder !== 'confidence' && commitOrder !== 'leftToRight' && commitOrder !== 'verify') {
    throw new RequestError(`commitOrder must be 'confidence', 'leftToRight' or 'verify', got ${String(commitOrder)}`);
  }
  const draftLength = req.draftLength ?? 'adaptive';
  if (draftLength !== 'adaptive' && draftLength !== 'block') throw new RequestError(`draftLength must be 'adaptive' or 'block', got ${String(draftLength)}`);
  const lookup = req.lookup ?? 16;
  if (!isInt(lookup) || lookup < 0) throw new RequestError(`lookup must be an integer >= 0 (0: no drafts copied from the text), got ${String(lookup)}`);
  const lookupMatch = req.lookupMatch ?? 1;
  if (!isInt(lookupMatch) || lookupMatch < 1 || lookupMatch > 3) throw new RequestError(`lookupMatch must be 1, 2 or 3 (the shortest match prompt lookup copies after), got ${String(lookupMatch)}`);
  const dualCache = req.dualCache ?? false;
  requireBoolean(dualCache, 'dualCache');
  const rowCost = req.rowCost ?? null;
  if (rowCost !== null && (typeof rowCost !== 'number' || !(rowCost >= 0 && rowCost <= 1))) throw new RequestError(`rowCost must be a number in [0, 1] (0: drafts sized without costs), got ${String(rowCost)}`);
  const candidates = req.candidates ?? 1;
  if (!isInt(candidates) || candidates < 1 || candidates > 32) throw new RequestError(`candidates must be an integer in 1..32 (1: off), got ${String(candidates)}`);
  if (candidates > 1 && !blockCausal) throw new RequestError('candidates > 1 needs a block-causal model (its AR head searches and scores the fills)');
  if (commitOrder === 'verify' && !blockCausal) throw new RequestError("commitOrder 'verify' needs a block-causal model (its AR head verifies the drafts)");
  const numBlocks = Math.ceil(genLength / blockLength);
  const { temperature, seed } = resolveSampling(req);

  // the EB-sampler ranks by entropy (the number its budget sums) unless told otherwise
  const confidence = req.confidence === undefined && req.schedule?.kind === 'entropyBound' ? 'entropy' : resolveConfidence(req);

  let revision: ResolvedKnobs['revision'] = null;
  if (req.revision !== undefined && req.revision !== null) {
    const r = req.revision;
    revision = {
      rho: requireUnitInterval(r.rho, 'revision.rho'),
      maxPerStep: r.maxPerStep === undefined ? 1 : requirePositiveInt(r.maxPerStep, 'revision.maxPerStep'),
      maxPerPosition: r.maxPerPosition === undefined ? 1 : requirePositiveInt(r.maxPerPosition, 'revision.maxPerPosition'),
      finalSteps: r.finalSteps === undefined ? 1 : requirePositiveInt(r.finalSteps, 'revision.finalSteps'),
    };
  }

  let schedule: ResolvedKnobs['schedule'];
  const s = req.schedule ?? { kind: 'fixed', steps: genLength };
  if (s.kind === 'fixed') {
    const hasSteps = s.steps !== undefined;
    const hasK = s.tokensPerStep !== undefined;
    if (hasSteps === hasK) throw new RequestError('schedule fixed needs exactly one of steps, tokensPerStep');
    if (hasSteps) {
      const steps = requirePositiveInt(s.steps, 'schedule.steps');
      if (steps < numBlocks) {
        throw new RequestError(`schedule.steps (${steps}) must be >= the number of blocks (${numBlocks}): every block needs a step`);
      }
      schedule = { kind: 'fixed', steps };
    } else {
      schedule = { kind: 'fixed', tokensPerStep: requirePositiveInt(s.tokensPerStep, 'schedule.tokensPerStep (k)') };
    }
  } else if (s.kind === 'threshold' || s.kind === 'entropyBound') {
    // the adaptive schedules: steps capped by maxSteps
    const maxSteps = s.maxSteps === undefined ? genLength * (revision ? 2 : 1) : requirePositiveInt(s.maxSteps, 'schedule.maxSteps');
    if (maxSteps < numBlocks) {
      throw new RequestError(`schedule.maxSteps (${maxSteps}) must be >= the number of blocks (${numBlocks})`);
    }
    if (s.kind === 'threshold') schedule = { kind: 'threshold', tau: requireUnitInterval(s.tau, 'schedule.tau'), maxSteps };
    else {
      const gamma = s.gamma;
      if (typeof gamma !== 'number' || !(gamma > 0) || !Number.isFinite(gamma)) throw new RequestError(`schedule.gamma must be a number > 0 (nats), got ${String(gamma)}`);
      schedule = { kind: 'entropyBound', gamma, maxSteps };
    }
  } else {
    throw new RequestError(`schedule.kind must be 'fixed', 'threshold' or 'entropyBound', got ${String((s as { kind: unknown }).kind)}`);
  }

  return {
    genLength,
    schedule,
    confidence,
    blockLength,
    commitOrder,
    draftLength,
    lookup,
    lookupMatch,
    rowCost,
    temperature,
    seed,
    revision,
    reuseForward: req.reuseForward ?? true,
    dualCache,
    previews: req.previews ?? false,
    suffixEndsText: requireBoolean(req.suffixEndsText ?? false, 'suffixEndsText'),
    fillBeginsLine: requireBoolean(req.fillBeginsLine ?? false, 'fillBeginsLine'),
    candidates,
    endsInOrder: req.endsInOrder ?? true,
  };
}

export function resolveConfidence(req: SamplerKnobs): ConfidenceMeasure {
  const confidence = req.confidence ?? 'prob';
  if (!['prob', 'margin', 'entropy'].includes(confidence)) {
    throw new RequestError(`confidence must be 'prob', 'margin' or 'entropy', got ${String(confidence)}`);
  }
  return confidence;
}

/** Validate the knobs the autoregressive twin uses too. */
export function resolveSampling(req: SamplerKnobs): { temperature: number; seed: number } {
  const temperature = req.temperature ?? 0;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new RequestError(`temperature must be a finite number >= 0, got ${String(temperature)}`);
  }
  const seed = req.seed ?? 0;
  if (!isInt(seed) || seed < 0 || seed > 0xffffffff) throw new RequestError(`seed must be an integer in [0, 2^32), got ${String(seed)}`);
  return { temperature, seed };
}

/** Starting canvas of a generate request: prompt + genLength masks (prompt left-truncated if allowed). */
export function layoutGenerate(req: GenerateRequest, config: ModelConfig): CanvasLayout {
  const genLength = requirePositiveInt(req.genLength, 'genLength');
  let prompt = checkTokens(req.prompt, 'prompt', config);
  if (prompt.length === 0) throw new RequestError('prompt is empty: generation needs at least one prompt token');
  const max = config.max_seq_len;
  if (genLength >= max) throw new RequestError(`genLength (${genLength}) leaves no room for a prompt in max_seq_len (${max})`);
  let dropped = 0;
  if (prompt.length + genLength > max) {
    if (!req.truncate) {
      throw new RequestError(
        `prompt (${prompt.length}) + genLength (${genLength}) = ${prompt.length + genLength} exceeds max_seq_len (${max}); shorten it or set truncate`,
      );
    }
    dropped = prompt.length + genLength - max;
    prompt = prompt.slice(dropped);
  }
  const mask = config.special_tokens.mask;
  return {
    tokens: [...prompt, ...new Array<number>(genLength).fill(mask)],
    spanStart: prompt.length,
    spanEnd: prompt.length + genLength,
    droppedPrefix: dropped,
    droppedSuffix: 0,
  };
}

/**
 * Starting canvas of an infill request: prefix + genLength masks + suffix. With `truncate`, the
 * room left after the span goes to the prefix first, up to half of it or more if the suffix needs
 * less; the prefix loses tokens on its left, the suffix on its right.
 */
export function layoutInfill(req: InfillRequest, config: ModelConfig): CanvasLayout {
  const genLength = requirePositiveInt(req.genLength, 'genLength');
  let prefix = checkTokens(req.prefix, 'prefix', config);
  let suffix = checkTokens(req.suffix, 'suffix', config);
  if (prefix.length === 0 && suffix.length === 0) {
    throw new RequestError('prefix and suffix are both empty: nothing to infill around (use generate)');
  }
  const max = config.max_seq_len;
  if (genLength >= max) throw new RequestError(`genLength (${genLength}) leaves no room for context in max_seq_len (${max})`);
  let droppedPrefix = 0;
  let droppedSuffix = 0;
  const total = prefix.length + genLength + suffix.length;
  if (total > max) {
    if (!req.truncate) {
      throw new RequestError(
        `prefix (${prefix.length}) + genLength (${genLength}) + suffix (${suffix.length}) = ${total} exceeds max_seq_len (${max}); shorten it or set truncate`,
      );
    }
    const room = max - genLength;
    const keepPrefix = Math.min(prefix.length, Math.max(room - suffix.length, Math.ceil(room / 2)));
    const keepSuffix = Math.min(suffix.length, room - keepPrefix);
    droppedPrefix = prefix.length - keepPrefix;
    droppedSuffix = suffix.length - keepSuffix;
    prefix = prefix.slice(droppedPrefix);
    suffix = suffix.slice(0, keepSuffix);
  }
  const mask = config.special_tokens.mask;
  return {
    tokens: [...prefix, ...new Array<number>(genLength).fill(mask), ...suffix],
    spanStart: prefix.length,
    spanEnd: prefix.length + genLength,
    droppedPrefix,
    droppedSuffix,
  };
}

/**
 * Replay one step event onto a canvas (pure: returns a new array). Starting from
 * `CanvasLayout.tokens` and applying every event in order gives the final `SampleResult.tokens`.
 * `masked` previews do not change the canvas.
 */
export function applyStep(canvas: readonly number[], event: StepEvent): number[] {
  const next = canvas.slice();
  for (const c of event.changes) {
    if (c.state !== 'masked') next[c.position] = c.token;
  }
  return next;
}
