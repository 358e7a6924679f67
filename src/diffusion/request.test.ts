import { describe, expect, it } from 'vitest';
import { fakeConfig, MASK } from './fakes';
import { applyStep, layoutGenerate, layoutInfill, RequestError, resolveKnobs } from './request';
import type { GenerateRequest, SamplerKnobs, StepEvent } from './types';

const config = fakeConfig('diffusion', 16);

describe('resolveKnobs', () => {
  it('fills in defaults', () => {
    expect(resolveKnobs({ genLength: 8 })).toEqual({
      genLength: 8,
      schedule: { kind: 'fixed', steps: 8 },
      confidence: 'prob',
      blockLength: 8,
      commitOrder: 'confidence',
      draftLength: 'adaptive',
      lookup: 16,
      lookupMatch: 1,
      rowCost: null,
      temperature: 0,
      seed: 0,
      revision: null,
      reuseForward: true,
      dualCache: false,
      previews: false,
      suffixEndsText: false,
      fillBeginsLine: false,
      endsInOrder: true,
      candidates: 1,
    });
    expect(resolveKnobs({ genLength: 8, revision: { rho: 0.2 } }).revision).toEqual({ rho: 0.2, maxPerStep: 1, maxPerPosition: 1, finalSteps: 1 });
    expect(resolveKnobs({ genLength: 8, schedule: { kind: 'threshold', tau: 0.9 } }).schedule).toEqual({ kind: 'threshold', tau: 0.9, maxSteps: 8 });
    expect(resolveKnobs({ genLength: 8, revision: { rho: 0.2 }, schedule: { kind: 'threshold', tau: 1 } }).schedule).toMatchObject({ maxSteps: 16 });
    expect(resolveKnobs({ genLength: 8, blockLength: 100 }).blockLength).toBe(8);
    // block-causal models: their block size and in-order commits by default
    expect(resolveKnobs({ genLength: 32 }, { attention: 'block_causal', block_size: 8 })).toMatchObject({ blockLength: 8, commitOrder: 'verify' });
    expect(resolveKnobs({ genLength: 32, blockLength: 4, commitOrder: 'confidence' }, { attention: 'block_causal', block_size: 8 })).toMatchObject({ blockLength: 4, commitOrder: 'confidence' });
    expect(() => resolveKnobs({ genLength: 8, commitOrder: 'random' as never })).toThrow(/commitOrder/);
    expect(() => resolveKnobs({ genLength: 8, draftLength: 'long' as never })).toThrow(/draftLength/);
    expect(resolveKnobs({ genLength: 8, lookup: 0 }).lookup).toBe(0);
    for (const bad of [-1, 2.5, '4']) expect(() => resolveKnobs({ genLength: 8, lookup: bad as never })).toThrow(/lookup must be an integer >= 0/);
    expect(resolveKnobs({ genLength: 8, lookupMatch: 2 }).lookupMatch).toBe(2);
    for (const bad of [0, 4, 1.5, '2']) expect(() => resolveKnobs({ genLength: 8, lookupMatch: bad as never })).toThrow(/lookupMatch must be 1, 2 or 3/);
    expect(resolveKnobs({ genLength: 8, dualCache: true }).dualCache).toBe(true);
    // the EB-sampler ranks by entropy unless told otherwise; its gamma is checked
    expect(resolveKnobs({ genLength: 8, schedule: { kind: 'entropyBound', gamma: 0.5 } })).toMatchObject({ confidence: 'entropy', schedule: { kind: 'entropyBound', gamma: 0.5, maxSteps: 8 } });
    expect(resolveKnobs({ genLength: 8, confidence: 'prob', schedule: { kind: 'entropyBound', gamma: 0.5 } }).confidence).toBe('prob');
    expect(() => resolveKnobs({ genLength: 8, dualCache: 'yes' as never })).toThrow(/dualCache must be true or false/);
    expect(resolveKnobs({ genLength: 8, suffixEndsText: true }).suffixEndsText).toBe(true);
    for (const bad of ['yes', 1, 0]) expect(() => resolveKnobs({ genLength: 8, suffixEndsText: bad as never })).toThrow(/suffixEndsText must be true or false/);
    expect(resolveKnobs({ genLength: 8 }).fillBeginsLine).toBe(false);
    expect(resolveKnobs({ genLength: 8, fillBeginsLine: true }).fillBeginsLine).toBe(true);
    for (const bad of ['yes', 1, 0]) expect(() => resolveKnobs({ genLength: 8, fillBeginsLine: bad as never })).toThrow(/fillBeginsLine must be true or false/);
    expect(resolveKnobs({ genLength: 8, rowCost: 0.6 }).rowCost).toBe(0.6);
    for (const bad of [-0.1, 1.5, Number.NaN, '0.5']) expect(() => resolveKnobs({ genLength: 8, rowCost: bad as never })).toThrow(/rowCost must be a number in \[0, 1\]/);
  });

  const bad: Array<[string, Partial<SamplerKnobs>, RegExp]> = [
    ['genLength 0', { genLength: 0 }, /genLength/],
    ['genLength fractional', { genLength: 2.5 }, /genLength/],
    ['k = 0', { schedule: { kind: 'fixed', tokensPerStep: 0 } }, /tokensPerStep/],
    ['k < 0', { schedule: { kind: 'fixed', tokensPerStep: -2 } }, /tokensPerStep/],
    ['steps = 0', { schedule: { kind: 'fixed', steps: 0 } }, /steps/],
    ['steps and k', { schedule: { kind: 'fixed', steps: 2, tokensPerStep: 2 } as never }, /exactly one/],
    ['neither steps nor k', { schedule: { kind: 'fixed' } as never }, /exactly one/],
    ['fewer steps than blocks', { blockLength: 2, schedule: { kind: 'fixed', steps: 3 } }, /number of blocks/],
    ['tau = 0', { schedule: { kind: 'threshold', tau: 0 } }, /tau/],
    ['tau > 1', { schedule: { kind: 'threshold', tau: 1.5 } }, /tau/],
    ['tau NaN', { schedule: { kind: 'threshold', tau: NaN } }, /tau/],
    ['maxSteps < blocks', { blockLength: 2, schedule: { kind: 'threshold', tau: 0.5, maxSteps: 3 } }, /maxSteps/],
    ['unknown schedule', { schedule: { kind: 'nope' } as never }, /schedule.kind/],
    ['unknown confidence', { confidence: 'logit' as never }, /confidence/],
    ['blockLength 0', { blockLength: 0 }, /blockLength/],
    ['negative temperature', { temperature: -1 }, /temperature/],
    ['infinite temperature', { temperature: Infinity }, /temperature/],
    ['bad seed', { seed: 1.5 }, /seed/],
    ['rho 0', { revision: { rho: 0 } }, /rho/],
    ['rho > 1', { revision: { rho: 2 } }, /rho/],
    ['revision budget 0', { revision: { rho: 0.5, maxPerStep: 0 } }, /maxPerStep/],
    ['revision per position 0', { revision: { rho: 0.5, maxPerPosition: 0 } }, /maxPerPosition/],
    ['revision finalSteps 0', { revision: { rho: 0.5, finalSteps: 0 } }, /finalSteps/],
  ];
  for (const [name, knobs, message] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => resolveKnobs({ genLength: 8, ...knobs })).toThrow(RequestError);
      expect(() => resolveKnobs({ genLength: 8, ...knobs })).toThrow(message);
    });
  }
});

describe('layout', () => {
  const gen = (prompt: number[], genLength: number, truncate = false): GenerateRequest => ({ prompt, genLength, truncate });

  it('generate: prompt then masks', () => {
    expect(layoutGenerate(gen([1, 2], 3), config)).toEqual({
      tokens: [1, 2, MASK, MASK, MASK],
      spanStart: 2,
      spanEnd: 5,
      droppedPrefix: 0,
      droppedSuffix: 0,
    });
  });

  it('generate: rejects an empty prompt, bad ids, and a canvas past max_seq_len unless truncating', () => {
    expect(() => layoutGenerate(gen([], 3), config)).toThrow(/prompt is empty/);
    expect(() => layoutGenerate(gen([1, MASK], 3), config)).toThrow(/mask token/);
    expect(() => layoutGenerate(gen([1, 99], 3), config)).toThrow(/prompt\[1\]/);
    expect(() => layoutGenerate(gen([1, 2.5], 3), config)).toThrow(/prompt\[1\]/);
    const prompt = Array.from({ length: 12 }, (_, i) => i);
    expect(() => layoutGenerate(gen(prompt, 6), config)).toThrow(/exceeds max_seq_len \(16\)/);
    expect(() => layoutGenerate(gen([1], 16, true), config)).toThrow(/no room/);
    const t = layoutGenerate(gen(prompt, 6, true), config);
    expect(t.tokens).toHaveLength(16);
    expect(t.tokens.slice(0, 10)).toEqual(prompt.slice(2));
    expect(t).toMatchObject({ spanStart: 10, spanEnd: 16, droppedPrefix: 2 });
  });

  it('infill: prefix, masks, suffix; truncation cuts the far ends', () => {
    expect(layoutInfill({ prefix: [1], suffix: [2, 3], genLength: 2 }, config).tokens).toEqual([1, MASK, MASK, 2, 3]);
    expect(layoutInfill({ prefix: [], suffix: [2], genLength: 2 }, config).spanStart).toBe(0);
    expect(() => layoutInfill({ prefix: [], suffix: [], genLength: 2 }, config)).toThrow(/both empty/);
    const prefix = Array.from({ length: 10 }, (_, i) => i);
    const suffix = Array.from({ length: 10 }, (_, i) => 10 + i);
    expect(() => layoutInfill({ prefix, suffix, genLength: 4 }, config)).toThrow(/exceeds max_seq_len/);
    const t = layoutInfill({ prefix, suffix, genLength: 4, truncate: true }, config);
    expect(t.tokens).toHaveLength(16);
    expect(t.tokens.slice(0, 6)).toEqual(prefix.slice(4));
    expect(t.tokens.slice(10)).toEqual(suffix.slice(0, 6));
    expect(t).toMatchObject({ spanStart: 6, spanEnd: 10, droppedPrefix: 4, droppedSuffix: 4 });
    // A short suffix leaves the rest of the room to the prefix.
    const u = layoutInfill({ prefix, suffix: [30], genLength: 8, truncate: true }, config);
    expect(u.tokens).toEqual([...prefix.slice(3), ...new Array(8).fill(MASK), 30]);
  });
});

describe('applyStep', () => {
  it('is pure and applies committed / revised changes, ignoring previews', () => {
    const canvas = [1, MASK, MASK, 4];
    const event: StepEvent = {
      step: 0,
      block: 0,
      forwardSkipped: false,
      maskedLeft: 1,
      changes: [
        { position: 1, token: 7, confidence: 0.9, state: 'committed' },
        { position: 2, token: 8, confidence: 0.1, state: 'masked' },
        { position: 3, token: MASK, confidence: 0.01, state: 'revised' },
      ],
    };
    expect(applyStep(canvas, event)).toEqual([1, 7, MASK, MASK]);
    expect(canvas).toEqual([1, MASK, MASK, 4]);
  });
});
