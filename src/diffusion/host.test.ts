import { describe, expect, it } from 'vitest';
import { FakeArModel, FakeDiffusionModel, MASK } from './fakes';
import { NoModelError, SamplerHost, healWhitespace, type TextCodec } from './host';
import { reachedStop } from './stopRule';
import { fakeConfig } from './fakes';
import type { AutoregressiveModel, Decisions } from '../engine/types';

/** Decisions for one row that chose `t`. */
const one = (t: number): Decisions => ({ token: Int32Array.of(t), prob: Float32Array.of(1), margin: Float32Array.of(1), entropy: Float32Array.of(0), currentProb: Float32Array.of(0) });
import { applyStep } from './request';
import { isCancelled, type GenerationEvent, type SamplerKnobs } from './types';

/** One token per character: 'a' = 1 ... 'z' = 26; specials render as ''. */
const codec: TextCodec = {
  encode: (s) => Array.from(s, (c) => c.charCodeAt(0) - 96),
  decode: (ids) => ids.filter((t) => t >= 1 && t <= 26).map((t) => String.fromCharCode(96 + t)).join(''),
};

describe('SamplerHost', () => {
  it('tokenizes, runs, streams start + step events and returns text', async () => {
    const host = new SamplerHost();
    host.setModel(new FakeDiffusionModel(), codec);
    const events: GenerationEvent[] = [];
    const r = await host.generate({ requestId: 'a', prompt: 'abc', genLength: 6, schedule: { kind: 'fixed', steps: 3 } }, (e) => events.push(e));
    expect(r.requestId).toBe('a');
    expect(r.modelKind).toBe('diffusion');
    expect(r.tokens.slice(0, 3)).toEqual([1, 2, 3]);
    expect(r.text).toBe(codec.decode(r.generated));
    expect(events[0]).toMatchObject({ type: 'start', requestId: 'a' });
    const start = events[0] as Extract<GenerationEvent, { type: 'start' }>;
    expect(start.pieces.slice(0, 3)).toEqual(['a', 'b', 'c']);
    const steps = events.slice(1) as Array<Extract<GenerationEvent, { type: 'step' }>>;
    expect(steps).toHaveLength(3);
    expect(steps.map((e) => e.step).reduce(applyStep, start.layout.tokens)).toEqual(r.tokens);
    for (const e of steps) expect(e.pieces).toEqual(e.step.changes.map((c) => codec.decode([c.token])));
  });

  it('uses the AR twin for an autoregressive model, refuses infill with it', async () => {
    const host = new SamplerHost();
    host.setModel(new FakeArModel(), codec);
    const r = await host.generate({ requestId: 'a', prompt: 'ab', genLength: 4 });
    expect(r.modelKind).toBe('autoregressive');
    expect(r.stats.forwards).toBe(4);
    await expect(host.infill({ requestId: 'b', prefix: 'a', suffix: 'b', genLength: 2 })).rejects.toThrow(/diffusion model/);
  });

  it('infills between prefix and suffix', async () => {
    const host = new SamplerHost();
    host.setModel(new FakeDiffusionModel(), codec);
    const r = await host.infill({ requestId: 'a', prefix: 'ab', suffix: 'yz', genLength: 4 });
    expect(r.tokens).toEqual([1, 2, ...r.generated, 25, 26]);
    expect(r.tokens).not.toContain(MASK);
  });

  it('rejects without a model, and on duplicate ids', async () => {
    const host = new SamplerHost();
    const err = await host.generate({ requestId: 'a', prompt: 'ab', genLength: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(NoModelError);
    expect(err.name).toBe('NoModelError');
    host.setModel(new FakeDiffusionModel(), codec);
    const first = host.generate({ requestId: 'x', prompt: 'ab', genLength: 8 });
    await expect(host.generate({ requestId: 'x', prompt: 'ab', genLength: 2 })).rejects.toThrow(/already running/);
    await first;
  });

  it('runs one at a time; cancel stops a running run and a queued one, other runs go on', async () => {
    const host = new SamplerHost();
    let active = 0;
    let maxActive = 0;
    const model = new FakeDiffusionModel();
    const decide = model.decide.bind(model);
    model.decide = async (...args) => {
      maxActive = Math.max(maxActive, ++active);
      await new Promise((r) => setTimeout(r, 1));
      active--;
      return decide(...args);
    };
    host.setModel(model, codec);
    const events: GenerationEvent[] = [];
    const a = host.generate({ requestId: 'a', prompt: 'ab', genLength: 20 }, (e) => {
      events.push(e);
      if (e.type === 'step' && e.step.step === 1) host.cancel('a');
    });
    const b = host.generate({ requestId: 'b', prompt: 'ab', genLength: 20 });
    const c = host.generate({ requestId: 'c', prompt: 'ab', genLength: 3 });
    host.cancel('b');
    host.cancel('nobody');
    const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
    expect(ra.status === 'rejected' && isCancelled(ra.reason)).toBe(true);
    expect(rb.status === 'rejected' && isCancelled(rb.reason)).toBe(true);
    expect(rc.status).toBe('fulfilled');
    expect(events.filter((e) => e.type === 'step')).toHaveLength(2);
    expect(maxActive).toBe(1);
    // Ids are free again once settled.
    await expect(host.generate({ requestId: 'a', prompt: 'ab', genLength: 2 })).resolves.toMatchObject({ requestId: 'a' });
  });

  it('keeps several models by id: requests pick one with modelId, default is the last set', async () => {
    const host = new SamplerHost();
    host.setModel(new FakeDiffusionModel(), codec, 'diff');
    host.setModel(new FakeArModel(), codec, 'ar');
    expect(host.modelIds()).toEqual(['diff', 'ar']);
    await expect(host.generate({ requestId: 'a', modelId: 'diff', prompt: 'ab', genLength: 2 })).resolves.toMatchObject({ modelKind: 'diffusion', modelId: 'diff' });
    await expect(host.generate({ requestId: 'b', modelId: 'ar', prompt: 'ab', genLength: 2 })).resolves.toMatchObject({ modelKind: 'autoregressive', modelId: 'ar' });
    await expect(host.generate({ requestId: 'c', prompt: 'ab', genLength: 2 })).resolves.toMatchObject({ modelId: 'ar' });
    await expect(host.infill({ requestId: 'd', modelId: 'diff', prefix: 'a', suffix: 'b', genLength: 2 })).resolves.toMatchObject({ modelId: 'diff' });
    const missing = await host.generate({ requestId: 'e', modelId: 'nope', prompt: 'ab', genLength: 2 }).catch((e) => e);
    expect(missing.name).toBe('NoModelError');
    expect(missing.message).toMatch(/"nope"/);
    host.setModel(null, null, 'ar');
    expect(host.modelIds()).toEqual(['diff']);
    await expect(host.generate({ requestId: 'f', prompt: 'ab', genLength: 2 })).resolves.toMatchObject({ modelId: 'diff' });
  });
});

describe('whitespace token healing', () => {
  it('cuts trailing white space only, and never the whole text', () => {
    expect(healWhitespace('def f():\n    ')).toEqual(['def f():', '\n    ']);
    expect(healWhitespace('x = 1')).toEqual(['x = 1', '']);
    expect(healWhitespace(' \n\t')).toEqual([' \n\t', '']);
  });

  it('the model sees the prompt without its trailing white space; the result does not repeat it', async () => {
    // The codec maps ' ' and '\n' to ids the fake model can write back; letters as before.
    const ws: TextCodec = {
      encode: (s) => Array.from(s, (c) => (c === ' ' ? 27 : c === '\n' ? 28 : c.charCodeAt(0) - 96)),
      decode: (ids) => ids.map((t) => (t === 27 ? ' ' : t === 28 ? '\n' : t >= 1 && t <= 26 ? String.fromCharCode(96 + t) : '')).join(''),
    };
    const host = new SamplerHost();
    host.setModel(new FakeDiffusionModel(), ws);
    const events: GenerationEvent[] = [];
    const r = await host.generate({ requestId: 'h', prompt: 'ab\n', genLength: 4, schedule: { kind: 'fixed', steps: 4 } }, (e) => events.push(e));
    const start = events[0] as Extract<GenerationEvent, { type: 'start' }>;
    expect(start.layout.tokens).toEqual([1, 2, MASK, MASK, MASK, MASK]); // the "\n" is not in the prompt
    const generatedText = ws.decode(r.generated);
    expect(r.text).toBe(generatedText.startsWith('\n') ? generatedText.slice(1) : generatedText);
  });
});

describe('stopAt (the end of a completion at the cursor)', () => {
  /** Letters, and three tokens of white space: 27 a line break, 28 and 0 a space. */
  const ws: TextCodec = {
    encode: (s) => Array.from(s, (c) => (c === '\n' ? 27 : c === ' ' ? 28 : c.charCodeAt(0) - 96)),
    decode: (ids) => ids.map((t) => (t === 27 ? '\n' : t === 28 || t === 0 ? ' ' : t >= 1 && t <= 26 ? String.fromCharCode(96 + t) : '')).join(''),
  };

  it('ends the text where it reaches the stop, and not a token earlier; the same text up to there', async () => {
    const cases = [
      { kind: 'ar', prompt: 'ab\n  cd', stopAt: 'line' },
      { kind: 'ar', prompt: 'ab\n  cd', stopAt: 'block' },
      { kind: 'ar', prompt: 'q', stopAt: 'line' },
      { kind: 'diffusion', prompt: 'ab\n  cd', stopAt: 'line' },
      { kind: 'diffusion', prompt: 'x\n    yz', stopAt: 'block' },
    ] as const;
    let stops = 0;
    for (const c of cases) {
      const host = new SamplerHost();
      host.setModel(c.kind === 'ar' ? new FakeArModel({ maxSeqLen: 128 }) : new FakeDiffusionModel({ maxSeqLen: 128 }), ws);
      // one token a step, so "not a token earlier" is "not a step earlier"
      const knobs: Partial<SamplerKnobs> = c.kind === 'diffusion' ? { commitOrder: 'leftToRight', schedule: { kind: 'fixed', tokensPerStep: 1 } } : {};
      const req = { prompt: c.prompt, genLength: 48, ...knobs };
      const full = await host.generate({ requestId: 'full', ...req });
      const r = await host.generate({ requestId: 'stop', ...req, stopAt: c.stopAt });
      const lineBefore = c.prompt.slice(c.prompt.lastIndexOf('\n') + 1);
      const label = `${c.kind} ${c.stopAt} ${JSON.stringify(full.text)}`;
      expect(full.text.startsWith(r.text), label).toBe(true);
      if (r.finishReason === 'stop') {
        stops++;
        expect(reachedStop(r.text, lineBefore, c.stopAt), label).toBe(true);
        expect(reachedStop(ws.decode(r.generated.slice(0, -1)), lineBefore, c.stopAt), label).toBe(false);
        expect(r.stats.forwards, label).toBeLessThan(full.stats.forwards);
      } else {
        expect(r.text, label).toBe(full.text);
        expect(reachedStop(full.text.slice(0, -1), lineBefore, c.stopAt), label).toBe(false);
      }
    }
    expect(stops).toBeGreaterThanOrEqual(3);
  });

  it("reads the prompt's healed white space written back as nothing yet, also a token at a time", async () => {
    // the cursor after "\n  " (Enter, then indentation): the model sees "f(a,", writes the
    // "\n  " back a character at a time, then "b)", then a line break; 'line' stops at that one
    const script = [27, 28, 28, 2, 28, 27, 24, 24, 24, 24]; // "\n  b \nxxxx"
    const scripted: AutoregressiveModel = {
      config: fakeConfig('autoregressive', 64),
      prefill: async () => one(script[0]!),
      decodeStep: async () => one(script[++at]!),
      logits: () => Promise.reject(new Error('not used')),
      dispose() {},
    };
    let at = 0;
    const host = new SamplerHost();
    host.setModel(scripted, ws);
    const r = await host.generate({ requestId: 'a', prompt: 'fa\n  ', genLength: 10, stopAt: 'line' });
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe('b \n');
    expect(r.generated).toHaveLength(6);
  });

  it('refuses an unknown stopAt with a clear error', async () => {
    const host = new SamplerHost();
    host.setModel(new FakeArModel(), ws);
    await expect(host.generate({ requestId: 'a', prompt: 'ab', genLength: 4, stopAt: 'paragraph' as never })).rejects.toThrow(/stopAt must be 'line' or 'block'/);
  });
});
