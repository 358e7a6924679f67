import { describe, expect, it } from 'vitest';
import { generateAutoregressive } from './autoregressive';
import { EOS, FakeArModel, FakeDiffusionModel, MASK, PAD } from './fakes';
import { applyStep } from './request';
import { isCancelled, type CanvasLayout, type GenerateRequest, type StepEvent } from './types';

const PROMPT = [1, 2, 3];

async function run(model: FakeArModel, req: GenerateRequest, signal?: AbortSignal) {
  const events: StepEvent[] = [];
  let start: CanvasLayout | undefined;
  const result = await generateAutoregressive(model, req, { onStart: (l) => (start = l), onStep: (e) => events.push(e), signal, decode: (ids) => ids.join(',') });
  return { result, events, start: start! };
}

describe('autoregressive twin', () => {
  it('decodes one token per step through prefill + decodeStep, feeding each token back', async () => {
    const model = new FakeArModel();
    const { result, events } = await run(model, { prompt: PROMPT, genLength: 6 });
    expect(model.calls.map((c) => c.kind)).toEqual(['prefill', 'decodeStep', 'decodeStep', 'decodeStep', 'decodeStep', 'decodeStep']);
    expect(model.calls[0].input).toEqual(PROMPT);
    // Each decodeStep feeds back the token chosen on the previous call.
    for (let i = 1; i < model.calls.length; i++) expect(model.calls[i].input).toEqual([model.calls[i - 1].token]);
    expect(result.generated).toEqual(model.calls.map((c) => c.token));
    expect(result.tokens).toEqual([...PROMPT, ...result.generated]);
    expect(events.map((e) => e.changes)).toEqual(result.generated.map((token, i) => [expect.objectContaining({ position: 3 + i, token, state: 'committed' })]));
    expect(result.finishReason).toBe('length');
    expect(result.text).toBe(result.generated.join(','));
    expect(result.stats).toMatchObject({ steps: 6, forwards: 6, skippedForwards: 0, tokensGenerated: 6, tokensPerStep: 1 });
  });

  it('stops at eos: the rest of the span is pad, generated excludes it', async () => {
    const model = new FakeArModel({ eosAt: 3 });
    const { result, events, start } = await run(model, { prompt: PROMPT, genLength: 8 });
    expect(model.calls).toHaveLength(4);
    expect(result.generated).toHaveLength(3);
    expect(result.generated).not.toContain(EOS);
    expect(result.tokens.slice(3 + 3)).toEqual([EOS, PAD, PAD, PAD, PAD]);
    expect(result.finishReason).toBe('eos');
    expect(result.stats.steps).toBe(4);
    expect(events.reduce(applyStep, start.tokens)).toEqual(result.tokens);
    expect(start.tokens.slice(3)).toEqual(new Array(8).fill(MASK));
  });

  it('stops where hooks.stop says the text is over: the tokens before are the same, the rest pad', async () => {
    const full = await run(new FakeArModel(), { prompt: PROMPT, genLength: 10 });
    const want = full.result.generated.slice(0, 4);
    const model = new FakeArModel();
    const seen: string[] = [];
    const stop = (text: string) => (seen.push(text), text.split(',').length >= 4);
    const events: StepEvent[] = [];
    let start: CanvasLayout | undefined;
    const r = await generateAutoregressive(model, { prompt: PROMPT, genLength: 10 }, { decode: (ids) => ids.join(','), stop, onStart: (l) => (start = l), onStep: (e) => events.push(e) });
    expect(r.generated).toEqual(want);
    expect(r.finishReason).toBe('stop');
    expect(model.calls).toHaveLength(4); // no forward after the stop
    expect(r.tokens.slice(3 + 4)).toEqual(new Array(6).fill(PAD));
    expect(events.reduce(applyStep, start!.tokens)).toEqual(r.tokens);
    expect(seen).toEqual([1, 2, 3, 4].map((n) => want.slice(0, n).join(',')));
  });

  it('passes temperature, seed and step; same seed reproduces, another differs', async () => {
    const req = (seed: number): GenerateRequest => ({ prompt: PROMPT, genLength: 8, temperature: 1, seed });
    const a = new FakeArModel();
    const ra = await run(a, req(4));
    expect(a.calls.map((c) => c.opts)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((step) => ({ temperature: 1, seed: 4, step })));
    const rb = await run(new FakeArModel(), req(4));
    const rc = await run(new FakeArModel(), req(5));
    expect(rb.result.tokens).toEqual(ra.result.tokens);
    expect(rc.result.tokens).not.toEqual(ra.result.tokens);
  });

  it('cancels within one step, and checks the model kind and the request', async () => {
    const controller = new AbortController();
    const model = new FakeArModel({ onCall: (i) => i === 2 && controller.abort() });
    const err = await run(model, { prompt: PROMPT, genLength: 8 }, controller.signal).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(model.calls).toHaveLength(3);
    await expect(generateAutoregressive(new FakeDiffusionModel() as never, { prompt: PROMPT, genLength: 2 })).rejects.toThrow(/autoregressive model/);
    await expect(generateAutoregressive(new FakeArModel(), { prompt: [], genLength: 2 })).rejects.toThrow(/prompt is empty/);
    await expect(generateAutoregressive(new FakeArModel(), { prompt: PROMPT, genLength: 100 })).rejects.toThrow(/max_seq_len/);
  });
});
