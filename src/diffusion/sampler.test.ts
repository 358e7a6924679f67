import { describe, expect, it } from 'vitest';
import { EOS, FakeDiffusionModel, FakeArModel, hash, hashLogits, MASK, PAD, type DecideCall, type LogitsFn } from './fakes';
import { applyStep, RequestError } from './request';
import { generate, infill } from './sampler';
import { confidenceOf } from './schedule';
import { isCancelled, type CanvasLayout, type ConfidenceMeasure, type GenerateRequest, type InfillRequest, type SampleResult, type SamplerHooks, type StepEvent } from './types';

const PROMPT = [1, 2, 3];

interface Run {
  result: SampleResult;
  events: StepEvent[];
  start: CanvasLayout;
  /** Canvas before each event (replayed), plus the final one. */
  canvases: number[][];
  /** The forward pass whose decisions each event used. */
  callOf: DecideCall[];
}

async function run(model: FakeDiffusionModel, req: GenerateRequest | InfillRequest, hooks: SamplerHooks = {}): Promise<Run> {
  const events: StepEvent[] = [];
  let start: CanvasLayout | undefined;
  const all: SamplerHooks = { ...hooks, onStart: (l) => (start = l), onStep: (e) => events.push(e) };
  const result = 'prompt' in req ? await generate(model, req, all) : await infill(model, req, all);
  const canvases = [start!.tokens];
  for (const e of events) canvases.push(applyStep(canvases[canvases.length - 1], e));
  const callOf: DecideCall[] = [];
  let call = -1;
  for (const e of events) callOf.push(model.calls[e.forwardSkipped ? call : ++call]);
  expect(call + 1).toBe(model.calls.length);
  return { result, events, start: start!, canvases, callOf };
}

const committedIn = (e: StepEvent) => e.changes.filter((c) => c.state === 'committed').map((c) => c.position);
const revisedIn = (e: StepEvent) => e.changes.filter((c) => c.state === 'revised').map((c) => c.position);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Confidence the model reported for position p in a recorded call. */
function conf(call: DecideCall, p: number, measure: ConfidenceMeasure = 'prob'): number {
  const i = call.positions.indexOf(p);
  expect(i).toBeGreaterThanOrEqual(0);
  return confidenceOf(call.decisions, i, measure);
}

/** Masked positions of the span (or of [from, to)) on a canvas. */
function maskedOf(canvas: number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let p = from; p < to; p++) if (canvas[p] === MASK) out.push(p);
  return out;
}

/** LLaDA's get_num_transfer_tokens, written out independently of the sampler. */
function lladaSplit(n: number, steps: number): number[] {
  const out = new Array<number>(steps).fill(Math.floor(n / steps));
  for (let i = 0; i < n % steps; i++) out[i] += 1;
  return out;
}

describe('fixed schedule', () => {
  for (const [n, steps] of [
    [12, 4],
    [12, 5],
    [7, 7],
    [9, 2],
  ]) {
    it(`N=${n}, steps=${steps}: LLaDA split, most confident first, ends in ${steps} steps`, async () => {
      const model = new FakeDiffusionModel();
      const r = await run(model, { prompt: PROMPT, genLength: n, schedule: { kind: 'fixed', steps } });
      expect(r.events.map((e) => committedIn(e).length)).toEqual(lladaSplit(n, steps));
      expect(r.result.stats.steps).toBe(steps);
      expect(r.result.stats.forwards).toBe(steps);
      r.events.forEach((e, i) => {
        const call = r.callOf[i];
        const masked = maskedOf(r.canvases[i], 3, 3 + n);
        expect(sorted(call.positions)).toEqual(masked);
        const chosen = committedIn(e);
        // Every committed position is at least as confident as every position left masked.
        const minChosen = Math.min(...chosen.map((p) => conf(call, p)));
        const left = masked.filter((p) => !chosen.includes(p));
        for (const p of left) expect(conf(call, p)).toBeLessThanOrEqual(minChosen);
        // And got the token the model chose for it.
        for (const c of e.changes) expect(c.token).toBe(call.decisions.token[call.positions.indexOf(c.position)]);
      });
      expect(r.result.tokens.slice(3)).not.toContain(MASK);
      expect(r.result.generated).toEqual(r.result.tokens.slice(3));
    });
  }

  it('tokensPerStep k commits exactly k per step, the remainder on the last', async () => {
    const model = new FakeDiffusionModel();
    const r = await run(model, { prompt: PROMPT, genLength: 10, schedule: { kind: 'fixed', tokensPerStep: 3 } });
    expect(r.events.map((e) => committedIn(e).length)).toEqual([3, 3, 3, 1]);
  });

  it('with more steps than tokens and no revision, stops when nothing is masked', async () => {
    const model = new FakeDiffusionModel();
    const r = await run(model, { prompt: PROMPT, genLength: 4, schedule: { kind: 'fixed', steps: 9 } });
    expect(r.events.map((e) => committedIn(e).length)).toEqual([1, 1, 1, 1]);
  });
});

describe('threshold schedule', () => {
  for (const measure of ['prob', 'margin', 'entropy'] as const) {
    it(`commits exactly the masked positions with ${measure} >= tau, or the single best`, async () => {
      let sawMany = false;
      let sawFallback = false;
      for (const tau of [0.15, 0.3, 0.5]) {
        const model = new FakeDiffusionModel();
        const r = await run(model, { prompt: PROMPT, genLength: 16, confidence: measure, schedule: { kind: 'threshold', tau } });
        r.events.forEach((e, i) => {
          const call = r.callOf[i];
          const masked = maskedOf(r.canvases[i], 3, 19);
          const above = masked.filter((p) => conf(call, p, measure) >= tau);
          const best = masked.reduce((a, p) => (conf(call, p, measure) > conf(call, a, measure) ? p : a));
          const expected = above.length > 0 ? above : [best];
          expect(sorted(committedIn(e))).toEqual(expected);
          if (above.length > 1) sawMany = true;
          if (above.length === 0) sawFallback = true;
        });
        expect(r.result.stats.steps).toBe(r.events.length);
        expect(r.result.generated.length).toBe(16);
      }
      // The fake's confidences straddle the thresholds, so both branches were exercised.
      expect(sawMany && sawFallback).toBe(true);
    });
  }

  it('tau = 1 with a confident-nowhere model decodes one token per step', async () => {
    const model = new FakeDiffusionModel({ logits: hashLogits({ scale: 1 }) });
    const r = await run(model, { prompt: PROMPT, genLength: 6, schedule: { kind: 'threshold', tau: 1 } });
    expect(r.events.map((e) => committedIn(e).length)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('maxSteps caps the steps: the last allowed step commits everything left', async () => {
    const model = new FakeDiffusionModel({ logits: hashLogits({ scale: 1 }) });
    const r = await run(model, { prompt: PROMPT, genLength: 8, schedule: { kind: 'threshold', tau: 1, maxSteps: 3 } });
    expect(r.events.map((e) => committedIn(e).length)).toEqual([1, 1, 6]);
  });
});

describe('entropyBound schedule (EB-sampler)', () => {
  /** Entropy the model reported for position p in a recorded call. */
  const entropy = (call: DecideCall, p: number) => call.decisions.entropy[call.positions.indexOf(p)];
  /** The rule written out: the longest prefix of `order` whose summed entropy less its largest is <= gamma, at least one. */
  const budgetPrefix = (call: DecideCall, order: number[], gamma: number) => {
    let k = 1;
    while (k < order.length) {
      const hs = order.slice(0, k + 1).map((p) => entropy(call, p));
      if (hs.reduce((a, b) => a + b, 0) - Math.max(...hs) > gamma) break;
      k++;
    }
    return order.slice(0, k);
  };

  for (const commitOrder of ['confidence', 'leftToRight'] as const) {
    it(`commits the ${commitOrder === 'confidence' ? 'most confident' : 'in-order'} run under the entropy budget`, async () => {
      const sizes = new Set<number>();
      for (const gamma of [0.5, 2, 6]) {
        const model = new FakeDiffusionModel();
        const r = await run(model, { prompt: PROMPT, genLength: 16, blockLength: 8, commitOrder, confidence: 'entropy', schedule: { kind: 'entropyBound', gamma } });
        r.events.forEach((e, i) => {
          const call = r.callOf[i];
          const block = i === 0 || r.canvases[i].slice(3, 11).includes(MASK) ? [3, 11] : [11, 19];
          const masked = maskedOf(r.canvases[i], block[0], block[1]);
          const order = commitOrder === 'confidence' ? [...masked].sort((a, b) => conf(call, b, 'entropy') - conf(call, a, 'entropy') || a - b) : masked;
          const want = budgetPrefix(call, order, gamma);
          expect(sorted(committedIn(e)), `gamma ${gamma}, step ${i}`).toEqual(sorted(want));
          sizes.add(want.length);
        });
        expect(r.result.generated.length).toBe(16);
      }
      // the budgets gave single commits and runs of several
      expect(sizes.has(1) && [...sizes].some((n) => n > 2)).toBe(true);
    });
  }

  it('a larger budget takes fewer steps; a bad gamma is refused', async () => {
    const steps = [];
    for (const gamma of [0.01, 5, 1000]) {
      const r = await run(new FakeDiffusionModel(), { prompt: PROMPT, genLength: 16, schedule: { kind: 'entropyBound', gamma } });
      steps.push(r.result.stats.steps);
    }
    expect(steps[0]).toBe(16);
    expect(steps[1]).toBeLessThan(steps[0]);
    expect(steps[2]).toBe(1);
    for (const gamma of [0, -1, Number.NaN, Infinity]) {
      await expect(generate(new FakeDiffusionModel(), { prompt: PROMPT, genLength: 4, schedule: { kind: 'entropyBound', gamma } })).rejects.toThrow(/schedule.gamma must be a number > 0/);
    }
  });
});

describe('fixed tokens', () => {
  const prefix = [4, 5, 6, 7];
  const suffix = [8, 9, 10];
  const configs: Array<Partial<InfillRequest>> = [
    { schedule: { kind: 'fixed', steps: 5 } },
    { schedule: { kind: 'threshold', tau: 0.3 }, blockLength: 4 },
    { schedule: { kind: 'fixed', steps: 20 }, revision: { rho: 0.5, maxPerStep: 2, maxPerPosition: 2 } },
    { temperature: 0.8, seed: 3, schedule: { kind: 'fixed', tokensPerStep: 2 } },
  ];
  for (const extra of configs) {
    it(`prefix and suffix are never changed or requested (${JSON.stringify(extra)})`, async () => {
      const model = new FakeDiffusionModel();
      const n = 10;
      const r = await run(model, { prefix, suffix, genLength: n, ...extra });
      const spanStart = prefix.length;
      const spanEnd = spanStart + n;
      for (const call of model.calls) {
        expect(Array.from(call.tokens.slice(0, spanStart))).toEqual(prefix);
        expect(Array.from(call.tokens.slice(spanEnd))).toEqual(suffix);
        for (const p of call.positions) expect(p >= spanStart && p < spanEnd).toBe(true);
      }
      for (const e of r.events) for (const c of e.changes) expect(c.position >= spanStart && c.position < spanEnd).toBe(true);
      expect(r.result.tokens.slice(0, spanStart)).toEqual(prefix);
      expect(r.result.tokens.slice(spanEnd)).toEqual(suffix);
      expect(r.result.layout).toMatchObject({ spanStart, spanEnd });
    });
  }
});

describe('semi-autoregressive blocks', () => {
  for (const schedule of [{ kind: 'fixed', steps: 6 }, { kind: 'threshold', tau: 0.3 }, { kind: 'fixed', tokensPerStep: 3 }] as const) {
    it(`never commits outside the current block, blocks left to right (${schedule.kind})`, async () => {
      const model = new FakeDiffusionModel();
      const n = 10;
      const blockLength = 4; // blocks [3,7) [7,11) [11,13)
      const r = await run(model, { prompt: PROMPT, genLength: n, blockLength, schedule });
      let lastBlock = 0;
      r.events.forEach((e, i) => {
        const lo = 3 + e.block * blockLength;
        const hi = Math.min(lo + blockLength, 3 + n);
        expect(e.block).toBeGreaterThanOrEqual(lastBlock);
        lastBlock = e.block;
        for (const c of e.changes) expect(c.position >= lo && c.position < hi).toBe(true);
        for (const p of r.callOf[i].positions) expect(p >= lo && p < hi).toBe(true);
        // Everything before the block is already committed.
        expect(maskedOf(r.canvases[i], 3, lo)).toEqual([]);
      });
      expect(new Set(r.events.map((e) => e.block))).toEqual(new Set([0, 1, 2]));
      if ('steps' in schedule) expect(r.events.map((e) => e.block)).toEqual([0, 0, 1, 1, 2, 2]);
    });
  }
});

describe('revision', () => {
  const adversary = () => new FakeDiffusionModel({ currentProb: () => 0 }); // every token looks wrong

  const cases: Array<{ name: string; req: Partial<GenerateRequest>; maxSteps: number }> = [
    { name: 'fixed, steps = N', req: { schedule: { kind: 'fixed', steps: 8 } }, maxSteps: 8 },
    { name: 'fixed, steps = 3N', req: { schedule: { kind: 'fixed', steps: 24 } }, maxSteps: 24 },
    { name: 'fixed, blocks', req: { schedule: { kind: 'fixed', steps: 12 }, blockLength: 3 }, maxSteps: 12 },
    { name: 'threshold', req: { schedule: { kind: 'threshold', tau: 0.6 } }, maxSteps: 16 },
    { name: 'threshold, tight cap', req: { schedule: { kind: 'threshold', tau: 0.9, maxSteps: 5 } }, maxSteps: 5 },
  ];
  for (const { name, req, maxSteps } of cases) {
    for (const budget of [
      { maxPerStep: 1, maxPerPosition: 1, finalSteps: 1 },
      { maxPerStep: 3, maxPerPosition: 4, finalSteps: 2 },
    ]) {
      it(`terminates under an adversary and respects its budget (${name}, ${JSON.stringify(budget)})`, async () => {
        const model = adversary();
        const r = await run(model, { prompt: PROMPT, genLength: 8, ...req, revision: { rho: 0.5, ...budget } });
        const times = new Map<number, number>();
        for (const e of r.events) {
          const rev = revisedIn(e);
          expect(rev.length).toBeLessThanOrEqual(budget.maxPerStep);
          for (const p of rev) times.set(p, (times.get(p) ?? 0) + 1);
          for (const c of e.changes.filter((c) => c.state === 'revised')) expect(c.token).toBe(MASK);
        }
        for (const t of times.values()) expect(t).toBeLessThanOrEqual(budget.maxPerPosition);
        expect(r.result.stats.revisions).toBe([...times.values()].reduce((a, b) => a + b, 0));
        expect(r.result.stats.revisions).toBeGreaterThan(0);
        expect(r.result.stats.steps).toBeLessThanOrEqual(maxSteps);
        // No re-masking in the last finalSteps steps a block may take; each block ends committed.
        const blockLength = req.blockLength ?? 8;
        const numBlocks = Math.ceil(8 / blockLength);
        const schedule = req.schedule!;
        const perBlock = schedule.kind === 'fixed' ? lladaSplit(schedule.steps!, numBlocks) : null;
        r.events.forEach((e, i) => {
          const stepInBlock = r.events.slice(0, i).filter((x) => x.block === e.block).length;
          const stepsLeft = perBlock ? perBlock[e.block] - stepInBlock : maxSteps - i - (numBlocks - e.block - 1);
          expect(stepsLeft).toBeGreaterThanOrEqual(1);
          if (stepsLeft <= budget.finalSteps) expect(revisedIn(e)).toEqual([]);
          const last = r.events[i + 1]?.block !== e.block;
          if (last) expect(maskedOf(r.canvases[i + 1], 3 + e.block * blockLength, 3 + Math.min(8, (e.block + 1) * blockLength))).toEqual([]);
        });
        expect(r.result.tokens).not.toContain(MASK);
        expect(r.result.generated.length).toBe(8);
      });
    }
  }

  it('fixed schedule with revision still ends in exactly the stated steps', async () => {
    const model = adversary();
    const r = await run(model, { prompt: PROMPT, genLength: 8, schedule: { kind: 'fixed', steps: 8 }, revision: { rho: 0.5 } });
    expect(r.result.stats.steps).toBe(8);
    expect(r.result.stats.revisions).toBeGreaterThan(0);
  });

  it('re-masks the least probable earlier commitments below rho, within the per-step budget', async () => {
    // currentProb varies by (position, token) so the ranking matters.
    const model = new FakeDiffusionModel({ currentProb: (p, c) => (c > 0 ? 0.6 * ((hash(p, 7) % 1000) / 1000) : c) });
    const rho = 0.4;
    const budget = { maxPerStep: 1, maxPerPosition: 2 };
    const steps = 8;
    const r = await run(model, { prompt: PROMPT, genLength: 12, schedule: { kind: 'fixed', steps }, revision: { rho, ...budget } });
    const times = new Map<number, number>();
    let nonTrivial = false;
    r.events.forEach((e, i) => {
      const call = r.callOf[i];
      const before = r.canvases[i];
      const stepsLeft = steps - i;
      const eligible = [];
      for (let p = 3; p < 15; p++) if (before[p] !== MASK && (times.get(p) ?? 0) < budget.maxPerPosition) eligible.push(p);
      const cp = (p: number) => call.decisions.currentProb[call.positions.indexOf(p)];
      const expected =
        stepsLeft <= 1
          ? []
          : eligible
              .filter((p) => cp(p) < rho)
              .sort((a, b) => cp(a) - cp(b) || a - b)
              .slice(0, budget.maxPerStep);
      expect(sorted(revisedIn(e))).toEqual(sorted(expected));
      if (eligible.filter((p) => cp(p) < rho).length > budget.maxPerStep) nonTrivial = true;
      for (const p of revisedIn(e)) times.set(p, (times.get(p) ?? 0) + 1);
    });
    expect(nonTrivial).toBe(true);
  });
});

describe('seeds and temperature', () => {
  const req = (seed: number, temperature = 1): GenerateRequest => ({
    prompt: PROMPT,
    genLength: 12,
    temperature,
    seed,
    schedule: { kind: 'fixed', steps: 4 },
  });
  it('same seed gives the same run, a different seed a different one', async () => {
    const a = await run(new FakeDiffusionModel(), req(1));
    const b = await run(new FakeDiffusionModel(), req(1));
    const c = await run(new FakeDiffusionModel(), req(2));
    expect(b.events).toEqual(a.events);
    expect(b.result.tokens).toEqual(a.result.tokens);
    expect(c.result.tokens).not.toEqual(a.result.tokens);
  });
  it('passes temperature, seed and the step index to the engine', async () => {
    const model = new FakeDiffusionModel();
    await run(model, req(7, 0.5));
    expect(model.calls.map((c) => c.opts)).toEqual([0, 1, 2, 3].map((step) => ({ temperature: 0.5, seed: 7, step })));
  });
  it('temperature 0 is greedy: the seed does not matter', async () => {
    const a = await run(new FakeDiffusionModel(), req(1, 0));
    const b = await run(new FakeDiffusionModel(), req(2, 0));
    expect(b.result.tokens).toEqual(a.result.tokens);
  });
});

describe('length: eos and pad end the span', () => {
  /** Hash logits, except that `at` strongly predicts `end`. */
  const endAt =
    (at: number, end: number): LogitsFn =>
    (tokens, p) => {
      const l = hashLogits()(tokens, p);
      if (p === at) l[end] = 50;
      return l;
    };

  for (const end of [EOS, PAD]) {
    it(`generate: after ${end === EOS ? 'eos' : 'pad'} the rest is pad, and no longer sent to the model`, async () => {
      const at = 3 + 5;
      const model = new FakeDiffusionModel({ logits: endAt(at, end) });
      const r = await run(model, { prompt: PROMPT, genLength: 12, schedule: { kind: 'fixed', steps: 12 }, endsInOrder: false });
      // The eos is the most confident position, so it comes first and fills the tail.
      expect(r.events[0].changes.map((c) => [c.position, c.token])).toEqual([[at, end], ...[9, 10, 11, 12, 13, 14].map((p) => [p, PAD])]);
      expect(r.result.tokens.slice(at + 1)).toEqual(new Array(6).fill(PAD));
      expect(r.result.generated).toEqual(r.result.tokens.slice(3, at));
      expect(r.result.generated).not.toContain(EOS);
      expect(r.result.finishReason).toBe('eos');
      expect(r.result.stats.tokensGenerated).toBe(5);
      expect(r.result.stats.steps).toBe(6);
      for (const call of model.calls.slice(1)) expect(call.tokens.length).toBe(at + 1);
    });
  }

  it('infill: returns only the real tokens; the suffix stays after the pad', async () => {
    const prefix = [4, 5];
    const suffix = [6, 7, 8];
    const at = 2 + 3;
    const model = new FakeDiffusionModel({ logits: endAt(at, EOS) });
    const decode = (ids: number[]) => ids.map((t) => String.fromCharCode(97 + t)).join('');
    const r = await run(model, { prefix, suffix, genLength: 8, schedule: { kind: 'threshold', tau: 0.5 } }, { decode });
    expect(r.result.generated).toHaveLength(3);
    expect(r.result.generated).toEqual(r.result.tokens.slice(2, at));
    expect(r.result.text).toBe(decode(r.result.generated));
    expect(r.result.tokens.slice(2 + 8)).toEqual(suffix);
    for (const call of model.calls) expect(call.tokens.length).toBe(2 + 8 + 3);
  });

  it('a later eos earlier in the span moves the end left', async () => {
    // Position 10 says eos at once; position 6 only once its neighbour 5 is committed.
    const logits: LogitsFn = (tokens, p) => {
      const l = hashLogits({ scale: 2 })(tokens, p);
      if (p === 10) l[EOS] = 50;
      if (p === 6 && tokens[5] !== MASK) l[EOS] = 50;
      if (p === 5) l[20] = 12;
      return l;
    };
    const r = await run(new FakeDiffusionModel({ logits }), { prompt: PROMPT, genLength: 10, schedule: { kind: 'fixed', steps: 10 }, endsInOrder: false });
    expect(r.result.tokens.slice(7)).toEqual(new Array(6).fill(PAD));
    expect(r.result.generated).toEqual(r.result.tokens.slice(3, 6));
    // The eos first committed further right was overwritten with pad.
    expect(r.events.some((e) => e.changes.some((c) => c.position === 10 && c.token === EOS))).toBe(true);
    expect(r.events.some((e) => e.changes.some((c) => c.position === 10 && c.token === PAD))).toBe(true);
  });
});

describe('endsInOrder: the end of the text is decided left to right', () => {
  /** Hash logits where every position from `from` on is sure it is padding (the far end of a span). */
  const padFrom =
    (from: number): LogitsFn =>
    (tokens, p) => {
      const l = hashLogits({ scale: 2 })(tokens, p);
      if (p >= from) l[PAD] = 50;
      return l;
    };

  for (const schedule of [{ kind: 'threshold', tau: 0.9 }, { kind: 'fixed', steps: 12 }] as const) {
    it(`${schedule.kind}: a confident pad at the far end waits until it is the first masked position`, async () => {
      const from = 3 + 8; // span 3..15, padding sure from 11 on
      const on = await run(new FakeDiffusionModel({ logits: padFrom(from) }), { prompt: PROMPT, genLength: 12, schedule });
      const off = await run(new FakeDiffusionModel({ logits: padFrom(from) }), { prompt: PROMPT, genLength: 12, schedule, endsInOrder: false });
      // On: 8 real tokens, the end where the model put it; every pad committed (not filled in) was
      // the first masked position at that step.
      expect(on.result.generated).toHaveLength(8);
      expect(on.result.finishReason).toBe('eos');
      const canvas = Int32Array.from(on.result.tokens).fill(MASK, 3, 15);
      for (const e of on.events) {
        for (const c of e.changes) {
          if (c.token === PAD && c.confidence !== 1) {
            expect([...canvas.subarray(3, c.position)]).not.toContain(MASK);
          }
        }
        for (const c of e.changes) canvas[c.position] = c.token;
      }
      // Off: the sure pad at 11 goes first and ends the text there too, but in the first step,
      // before any real token.
      expect(off.events[0].changes.some((c) => c.token === PAD && c.position === from)).toBe(true);
      expect(on.events[0].changes.some((c) => c.token === PAD)).toBe(false);
    });
  }

  it('the first masked position may still end the text at once', async () => {
    const r = await run(new FakeDiffusionModel({ logits: padFrom(3) }), { prompt: PROMPT, genLength: 6, schedule: { kind: 'threshold', tau: 0.9 } });
    expect(r.result.generated).toEqual([]);
    expect(r.result.finishReason).toBe('eos');
    expect(r.result.stats.forwards).toBe(1);
  });

  it('a span that the model would collapse from the right keeps its real tokens', async () => {
    // Padding spreads leftwards: a position is sure of pad once its right neighbour is pad.
    const spread: LogitsFn = (tokens, p) => {
      const l = hashLogits({ scale: 2 })(tokens, p);
      if (p === tokens.length - 1 || tokens[p + 1] === PAD) l[PAD] = 50;
      return l;
    };
    const req = { prompt: PROMPT, genLength: 12, schedule: { kind: 'threshold', tau: 0.9 } } as const;
    const off = await run(new FakeDiffusionModel({ logits: spread }), { ...req, endsInOrder: false });
    const on = await run(new FakeDiffusionModel({ logits: spread }), req);
    expect(off.result.generated.length).toBeLessThanOrEqual(1);
    expect(on.result.generated.length).toBeGreaterThanOrEqual(11);
  });
});

describe('forward-pass reuse', () => {
  it('skips the forward when the canvas has not changed, counts it, and changes nothing', async () => {
    const req: GenerateRequest = {
      prompt: PROMPT,
      genLength: 6,
      schedule: { kind: 'fixed', steps: 12 },
      revision: { rho: 0.01 },
    };
    const cached = new FakeDiffusionModel({ currentProb: () => 1 }); // nothing to revise: polishing steps change nothing
    const a = await run(cached, req);
    const uncached = new FakeDiffusionModel({ currentProb: () => 1 });
    const b = await run(uncached, { ...req, reuseForward: false });
    expect(a.result.stats.skippedForwards).toBeGreaterThan(0);
    expect(a.result.stats.forwards + a.result.stats.skippedForwards).toBe(a.result.stats.steps);
    expect(a.result.stats.forwards).toBe(cached.calls.length);
    expect(a.events.filter((e) => e.forwardSkipped)).toHaveLength(a.result.stats.skippedForwards);
    for (const e of a.events.filter((e) => e.forwardSkipped)) expect(e.changes).toEqual([]);
    expect(b.result.stats.skippedForwards).toBe(0);
    expect(b.result.stats.forwards).toBe(b.result.stats.steps);
    expect(a.result.tokens).toEqual(b.result.tokens);
    expect(a.events.map((e) => e.changes)).toEqual(b.events.map((e) => e.changes));
  });
});

describe('cancellation', () => {
  it('an abort during a forward pass stops before the next step', async () => {
    const controller = new AbortController();
    const model = new FakeDiffusionModel({ onDecide: (i) => i === 2 && controller.abort() });
    const events: StepEvent[] = [];
    const err = await generate(model, { prompt: PROMPT, genLength: 10 }, { signal: controller.signal, onStep: (e) => events.push(e) }).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(model.calls).toHaveLength(3);
    expect(events).toHaveLength(2);
  });

  it('an abort from another task gets through even when forwards resolve at once', async () => {
    const controller = new AbortController();
    const model = new FakeDiffusionModel();
    let stepsAtAbort = -1;
    const events: StepEvent[] = [];
    const onStep = (e: StepEvent) => {
      events.push(e);
      // Abort from a separate macrotask, as a worker's cancel message would arrive.
      if (e.step === 3)
        setImmediate(() => {
          stepsAtAbort = events.length;
          controller.abort();
        });
    };
    const err = await generate(model, { prompt: PROMPT, genLength: 40 }, { signal: controller.signal, onStep }).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(stepsAtAbort).toBe(4);
    expect(events.length).toBeLessThanOrEqual(stepsAtAbort + 1);
  });

  it('an already aborted signal runs nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const model = new FakeDiffusionModel();
    let started = false;
    const err = await generate(model, { prompt: PROMPT, genLength: 4 }, { signal: controller.signal, onStart: () => (started = true) }).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(model.calls).toHaveLength(0);
    expect(started).toBe(false);
  });
});

describe('step events', () => {
  const configs: Array<{ name: string; req: GenerateRequest | InfillRequest; logits?: LogitsFn; adversary?: boolean }> = [
    { name: 'fixed', req: { prompt: PROMPT, genLength: 9, schedule: { kind: 'fixed', steps: 4 } } },
    { name: 'threshold + blocks + previews', req: { prompt: PROMPT, genLength: 9, blockLength: 4, previews: true, schedule: { kind: 'threshold', tau: 0.3 } } },
    { name: 'revision', req: { prompt: PROMPT, genLength: 9, schedule: { kind: 'fixed', steps: 15 }, revision: { rho: 0.5, maxPerStep: 2 } }, adversary: true },
    {
      name: 'infill + eos + temperature',
      req: { prefix: [4], suffix: [5, 6], genLength: 9, temperature: 0.7, seed: 5, schedule: { kind: 'fixed', tokensPerStep: 2 } },
      logits: (t, p) => {
        const l = hashLogits()(t, p);
        if (p === 6) l[EOS] = 50;
        return l;
      },
    },
  ];
  for (const { name, req, logits, adversary } of configs) {
    it(`replaying the events rebuilds the final canvas (${name})`, async () => {
      const model = new FakeDiffusionModel({ logits, currentProb: adversary ? () => 0 : undefined });
      const r = await run(model, req);
      expect(r.canvases[r.canvases.length - 1]).toEqual(r.result.tokens);
      r.events.forEach((e, i) => {
        expect(e.step).toBe(i);
        const { spanStart, spanEnd } = r.result.layout;
        expect(e.maskedLeft).toBe(maskedOf(r.canvases[i + 1], spanStart, spanEnd).length);
        for (const c of e.changes) {
          if (c.state === 'masked') expect(r.canvases[i + 1][c.position]).toBe(MASK);
          else expect(r.canvases[i][c.position]).not.toBe(c.token);
          expect(Number.isFinite(c.confidence)).toBe(true);
        }
        const positions = e.changes.map((c) => c.position);
        expect(positions).toEqual(sorted(positions));
      });
      if ('previews' in req && req.previews) expect(r.events.some((e) => e.changes.some((c) => c.state === 'masked'))).toBe(true);
      expect(applyStep(r.start.tokens, r.events[0])).not.toBe(r.start.tokens);
    });
  }

  it('stats add up', async () => {
    const model = new FakeDiffusionModel();
    const r = await run(model, { prompt: PROMPT, genLength: 12, schedule: { kind: 'threshold', tau: 0.3 } });
    const s = r.result.stats;
    expect(s.steps).toBe(r.events.length);
    expect(s.forwards).toBe(model.calls.length);
    expect(s.tokensGenerated).toBe(r.result.generated.length);
    expect(s.tokensPerStep).toBeCloseTo(s.tokensGenerated / s.steps);
    expect(s.ms).toBeGreaterThanOrEqual(0);
    expect(s.tokensPerSecond).toBeGreaterThanOrEqual(0);
  });
});

describe('requests', () => {
  it('rejects a model of the wrong kind and bad knobs before running anything', async () => {
    const model = new FakeDiffusionModel();
    await expect(generate(new FakeArModel() as never, { prompt: PROMPT, genLength: 4 })).rejects.toThrow(/diffusion model/);
    await expect(generate(model, { prompt: [], genLength: 4 })).rejects.toThrow(RequestError);
    await expect(generate(model, { prompt: PROMPT, genLength: 4, schedule: { kind: 'threshold', tau: 0 } })).rejects.toThrow(/tau/);
    await expect(generate(model, { prompt: PROMPT, genLength: 100 })).rejects.toThrow(/max_seq_len/);
    expect(model.calls).toHaveLength(0);
  });

  it('a malformed engine answer is an error, not a silent wrong result', async () => {
    const model = new FakeDiffusionModel();
    model.decide = async (_t, positions) => ({
      token: new Int32Array(positions.length).fill(MASK),
      prob: new Float32Array(positions.length),
      margin: new Float32Array(positions.length),
      entropy: new Float32Array(positions.length),
      currentProb: new Float32Array(positions.length),
    });
    await expect(generate(model, { prompt: PROMPT, genLength: 4 })).rejects.toThrow(/mask token/);
  });
});

describe('hooks.stop (SamplerKnobs.stopAt)', () => {
  it('ends the run once the committed run from the span start reads as over; what comes after it is pad', async () => {
    // one token per step, most confident first: the run from the start grows unevenly
    const req: GenerateRequest = { prompt: PROMPT, genLength: 12, schedule: { kind: 'fixed', steps: 12 }, commitOrder: 'confidence' };
    const full = await run(new FakeDiffusionModel(), req);
    const decode = (ids: number[]) => ids.join(',');
    const seen: string[] = [];
    const stopped = await run(new FakeDiffusionModel(), req, { decode, stop: (t) => (seen.push(t), t.split(',').length >= 3) });
    const r = stopped.result;
    expect(r.finishReason).toBe('stop');
    // each check saw the left-to-right run of committed tokens, never a mask
    for (const t of seen) expect(t.split(',').map(Number)).not.toContain(MASK);
    const n = r.generated.length;
    expect(n).toBe(seen[seen.length - 1].split(',').length);
    expect(n).toBeGreaterThanOrEqual(3);
    // the same steps as the full run until then, so the same tokens; then the rest is pad
    expect(r.generated).toEqual(full.result.generated.slice(0, n));
    expect(r.tokens.slice(PROMPT.length + n)).toEqual(new Array(12 - n).fill(PAD));
    expect(stopped.events.length).toBeLessThan(full.events.length);
    expect(stopped.canvases[stopped.canvases.length - 1]).toEqual(r.tokens);
    // without decode the hook cannot read the text: ignored
    const blind = await run(new FakeDiffusionModel(), req, { stop: () => true });
    expect(blind.result.finishReason).toBe('length');
  });

  it('refuses revision with a stop (a later step could re-mask what it kept)', async () => {
    const req: GenerateRequest = { prompt: PROMPT, genLength: 8, schedule: { kind: 'fixed', steps: 8 }, revision: { rho: 0.5 } };
    await expect(generate(new FakeDiffusionModel(), req, { decode: String, stop: () => false })).rejects.toThrow(/stopAt cannot be combined with revision/);
    await expect(generate(new FakeDiffusionModel(), req, { decode: String })).resolves.toBeDefined();
  });
});
