// registerCompletions against a stand-in Monaco (just the calls it makes) and a stand-in client:
// the request it sends (prefix, the whole suffix, knobs, model), the edit's range (the
// auto-closed rest of the line covered), cancellation by Monaco's token, other editors' text.

import { describe, expect, it } from 'vitest';
import type { GenerationResult } from '../protocol';
import type { Quicksilver, RunOptions } from './client';
import { registerCompletions, type Monaco } from './completions';

class Range {
  constructor(
    readonly startLineNumber: number,
    readonly startColumn: number,
    readonly endLineNumber: number,
    readonly endColumn: number,
  ) {}
}

type Provider = {
  provideInlineCompletions(model: unknown, position: { lineNumber: number; column: number }, context: unknown, token: unknown): Promise<{ items: { insertText: string; range: Range }[] }>;
  debounceDelayMs?: number;
};

function textModel(text: string) {
  const lines = text.split('\n');
  return {
    getValue: () => text,
    getLanguageId: () => 'python',
    getLineContent: (n: number) => lines[n - 1]!,
    getOffsetAt: ({ lineNumber, column }: { lineNumber: number; column: number }) => lines.slice(0, lineNumber - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1,
  };
}

function token() {
  const listeners: (() => void)[] = [];
  return {
    isCancellationRequested: false,
    onCancellationRequested(fn: () => void) {
      listeners.push(fn);
      return { dispose() {} };
    },
    cancel() {
      this.isCancellationRequested = true;
      for (const fn of listeners) fn();
    },
  };
}

function setup(answer: (signal: AbortSignal) => Promise<string>, options: Parameters<typeof registerCompletions>[3] = {}) {
  let provider: Provider | null = null;
  const monaco = {
    Range,
    KeyMod: { CtrlCmd: 2048, Shift: 1024 },
    KeyCode: { RightArrow: 17 },
    languages: {
      registerInlineCompletionsProvider: (_lang: string, p: Provider) => {
        provider = p;
        return { dispose() {} };
      },
    },
  } as unknown as Monaco;
  const model = textModel('def total(n):\n    s = 0\n    for i in range()\n        s += i\n');
  const editor = { getModel: () => model, addAction: () => ({ dispose() {} }), trigger() {} };
  const calls: { prefix: string; suffix: string; options: RunOptions }[] = [];
  const client = {
    async infill(prefix: string, suffix: string, opts: RunOptions) {
      calls.push({ prefix, suffix, options: opts });
      return { text: await answer(opts.signal!), stats: {} } as GenerationResult;
    },
  } as unknown as Quicksilver;
  const handle = registerCompletions(monaco, editor as never, client, options);
  return { provider: provider!, model, calls, handle };
}

describe('registerCompletions', () => {
  it('infills with the whole text after the cursor as suffix; the edit covers the auto-closed `)`', async () => {
    const { provider, model, calls } = setup(async () => 'n):\n        s += i', { knobs: () => ({ genLength: 12 }), model: 'm1', debounceMs: 99 });
    expect(provider.debounceDelayMs).toBe(99);
    const res = await provider.provideInlineCompletions(model, { lineNumber: 3, column: 20 }, {}, token());
    expect(calls[0]!.prefix).toBe('def total(n):\n    s = 0\n    for i in range(');
    expect(calls[0]!.suffix).toBe(')\n        s += i\n');
    // in the middle of a line only its first line is shown: decoding stops at a line break
    expect(calls[0]!.options).toMatchObject({ genLength: 12, temperature: 0, truncate: true, model: 'm1', stopAt: 'line' });
    expect(res.items).toEqual([{ insertText: 'n):', range: new Range(3, 20, 3, 21) }]);
  });

  it('a completion at the end of a line is kept to the cursor\'s block', async () => {
    const { provider, model, calls } = setup(async () => '\n    t = 1\n\ndef junk(n, n, n');
    const res = await provider.provideInlineCompletions(model, { lineNumber: 2, column: 10 }, {}, token());
    expect(res.items).toEqual([{ insertText: '\n    t = 1', range: new Range(2, 10, 2, 10) }]);
    // decoding stops at the end of the block; a caller's knobs may turn that off
    expect(calls[0]!.options.stopAt).toBe('block');
    const off = setup(async () => 'x', { knobs: { stopAt: undefined } });
    await off.provider.provideInlineCompletions(off.model, { lineNumber: 2, column: 10 }, {}, token());
    expect(off.calls[0]!.options.stopAt).toBeUndefined();
  });

  it("Monaco's cancellation aborts the run and shows nothing; disabled or another editor's model: no run", async () => {
    let seen: AbortSignal | null = null;
    const { provider, model, calls } = setup(
      (signal) =>
        new Promise((_resolve, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { name: 'CancelledError' })));
        }),
    );
    const t = token();
    const pending = provider.provideInlineCompletions(model, { lineNumber: 3, column: 20 }, {}, t);
    expect(seen!.aborted).toBe(false);
    t.cancel();
    expect(seen!.aborted).toBe(true);
    expect((await pending).items).toEqual([]);

    const other = textModel('x = (');
    expect((await provider.provideInlineCompletions(other, { lineNumber: 1, column: 6 }, {}, token())).items).toEqual([]);
    expect(calls).toHaveLength(1);

    const off = setup(async () => 'n):', { enabled: () => false });
    expect((await off.provider.provideInlineCompletions(off.model, { lineNumber: 3, column: 20 }, {}, token())).items).toEqual([]);
    expect(off.calls).toHaveLength(0);
  });
});
