// Faults tried (issue #13, item 9) at the worker's SamplerHost: a prompt longer than the context
// is trimmed from the left and says how much; a 1 MB text is cut before tokenizing (seconds of
// BPE otherwise); an empty prompt runs; a non-string prompt is a RequestError, not a crash.

import { describe, expect, it } from 'vitest';
import { FakeArModel, FakeDiffusionModel } from './fakes';
import { healWhitespace, infillTextKnobs, keepEnd, keepStart, MAX_CHARS_PER_TOKEN, SamplerHost, type TextCodec } from './host';
import type { GenerationEvent } from './types';

/** One token per character: 'a' = 1 ... 'z' = 26 (the fake models' vocabulary is 32). */
function countingCodec() {
  const seen: number[] = [];
  const codec: TextCodec = {
    encode: (s) => {
      seen.push(s.length);
      return Array.from(s, (c) => ((c.charCodeAt(0) - 97) % 26 + 26) % 26 + 1);
    },
    decode: (ids) => ids.filter((t) => t >= 1 && t <= 26).map((t) => String.fromCharCode(96 + t)).join(''),
  };
  return { codec, seen };
}

describe('what a text infill request tells the sampler (infillTextKnobs)', () => {
  it('a prefix that ends a line puts the hole at a line\'s start; a suffix cut here no longer ends the text', () => {
    const tail = (prefix: string) => healWhitespace(prefix)[1];
    expect(infillTextKnobs(tail('def f(x):\n'), 0)).toEqual({ fillBeginsLine: true }); // a Fill of whole lines
    expect(infillTextKnobs(tail('def f(x):\n\n'), 0)).toEqual({ fillBeginsLine: true }); // after a blank line
    expect(infillTextKnobs(tail('def f(x):\n    '), 0)).toEqual({}); // the selection after the indentation: that depth is kept
    expect(infillTextKnobs(tail('def f(x):\n    y = '), 0)).toEqual({}); // mid-line
    expect(infillTextKnobs(tail('def f(x):\n    y ='), 0)).toEqual({});
    expect(infillTextKnobs(tail('\n\n'), 0)).toEqual({}); // only white space: nothing healed, nothing before the line
    expect(infillTextKnobs(tail('x = 1\r\n'), 3)).toEqual({ fillBeginsLine: true, suffixEndsText: false });
    // the request's own word stands (validated by the sampler)
    expect(infillTextKnobs(tail('x = 1\n'), 0, false)).toEqual({});
    expect(infillTextKnobs(tail('x = 1'), 0, true)).toEqual({});
  });
});

describe('prompt trimming (SamplerHost)', () => {
  it('a prompt longer than the context: the left is dropped, and the start event and result count its characters', async () => {
    const host = new SamplerHost();
    const { codec } = countingCodec();
    host.setModel(new FakeDiffusionModel({ maxSeqLen: 64 }), codec);
    const prompt = 'abcdefghij'.repeat(10); // 100 tokens, context 64
    const events: GenerationEvent[] = [];
    const r = await host.generate({ requestId: 'a', prompt, genLength: 8, truncate: true, schedule: { kind: 'fixed', steps: 2 } }, (e) => events.push(e));
    expect(r.layout.droppedPrefix).toBe(100 + 8 - 64);
    expect(r.layout.droppedPrefixChars).toBe(44);
    const start = events[0] as Extract<GenerationEvent, { type: 'start' }>;
    expect(start.layout.droppedPrefixChars).toBe(44);
    // What the model saw is the end of the prompt.
    expect(codec.decode(start.layout.tokens.slice(0, 56))).toBe(prompt.slice(44));
  });

  it('a 1 MB prompt is cut before tokenizing; the count covers the cut and the dropped tokens', async () => {
    const host = new SamplerHost();
    const { codec, seen } = countingCodec();
    host.setModel(new FakeArModel(), codec);
    const max = host['models'].get('default')!.model.config.max_seq_len;
    const prompt = 'x'.repeat(1 << 20);
    const r = await host.generate({ requestId: 'big', prompt, genLength: 4, truncate: true });
    expect(seen).toEqual([max * MAX_CHARS_PER_TOKEN]);
    expect(r.layout.droppedPrefixChars).toBe((1 << 20) - (max - 4));
    expect(r.stats.tokensGenerated).toBeGreaterThan(0);
  });

  it('an empty prompt starts after an end-of-text token (both kinds); a prompt that is not a string is a RequestError', async () => {
    const host = new SamplerHost();
    host.setModel(new FakeArModel(), countingCodec().codec);
    const r = await host.generate({ requestId: 'e', prompt: '', genLength: 4 });
    expect(r.layout).toMatchObject({ droppedPrefix: 0, droppedPrefixChars: 0, spanStart: 1 });
    expect(r.tokens[0]).toBe(host['models'].get('default')!.model.config.special_tokens.eos);
    expect(r.stats.tokensGenerated).toBeGreaterThan(0);
    host.setModel(new FakeDiffusionModel(), countingCodec().codec, 'd');
    const d = await host.generate({ requestId: 'e2', modelId: 'd', prompt: '', genLength: 4, schedule: { kind: 'fixed', steps: 2 } });
    expect(d.layout.spanStart).toBe(1);
    await expect(host.generate({ requestId: 'n', prompt: null as unknown as string, genLength: 4 })).rejects.toMatchObject({ name: 'RequestError' });
  });

  it('infill cuts the prefix on the left and the suffix on the right, never inside a surrogate pair', async () => {
    const emoji = '😀'.repeat(100); // 200 UTF-16 units
    const end = keepEnd(`a${emoji}`, 1, true);
    expect(end.text.length).toBeLessThanOrEqual(MAX_CHARS_PER_TOKEN);
    expect(end.text.codePointAt(0)).toBe(0x1f600);
    const start = keepStart(`${emoji}a`, 1, true);
    expect(start.text.length).toBeLessThanOrEqual(MAX_CHARS_PER_TOKEN);
    expect(start.text.at(-1)).toBe('\ude00');
    expect(keepEnd('short', 64, true)).toEqual({ text: 'short', cut: 0 });
    expect(keepEnd('x'.repeat(10_000), 1, false).cut).toBe(0);

    const host = new SamplerHost();
    host.setModel(new FakeDiffusionModel(), countingCodec().codec);
    const r = await host.infill({ requestId: 'i', prefix: 'p'.repeat(200_000), suffix: 's'.repeat(200_000), genLength: 4, truncate: true });
    expect(r.layout.droppedPrefixChars! + r.layout.droppedSuffixChars!).toBeGreaterThan(399_000);
  });
});
