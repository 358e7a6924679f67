import { describe, expect, it } from 'vitest';
import type { RunOutcome } from '../python/sandbox';
import { attemptKnobs, generateUntilPass, hasTests, verdict } from './pythonTests';

const done = (oks: boolean[], error: string | null = null): RunOutcome => ({
  status: 'done', ms: 1, memoryBytes: 0,
  report: { program: '', droppedLines: 0, error, tests: oks.map((ok, i) => ({ name: `t${i}`, line: i, ok, detail: '' })) },
});

describe('pythonTests', () => {
  it('verdicts: pass needs at least one test and all of them passing', () => {
    expect(verdict(done([true, true]))).toBe('pass');
    expect(verdict(done([true, false]))).toBe('fail');
    expect(verdict(done([]))).toBe('none');
    expect(verdict(done([true], 'SyntaxError'))).toBe('error');
    expect(verdict({ status: 'timeout', ms: 5000 })).toBe('timeout');
    expect(verdict({ status: 'error', message: 'x' })).toBe('error');
  });

  it('finds doctests in the code and asserts in either place', () => {
    expect(hasTests('def f():\n    """\n    >>> f()\n    """\n', '')).toBe(true);
    expect(hasTests('def f():\n    pass\n', 'assert f() is None')).toBe(true);
    expect(hasTests('def f():\n    pass\n', '')).toBe(false);
  });

  it('attempts after the first sample with the next seeds', () => {
    expect(attemptKnobs(0, 7, 0)).toEqual({ seed: 7, temperature: 0 });
    expect(attemptKnobs(2, 7, 0)).toEqual({ seed: 9, temperature: 0.8 });
    expect(attemptKnobs(1, 7, 0.5)).toEqual({ seed: 8, temperature: 0.5 });
  });

  it('generate until pass: stops at the first pass, after N attempts, or when the budget is spent', async () => {
    const seen: number[] = [];
    const passAt = (k: number) => ({
      attempts: 5, budgetMs: 1e9,
      generate: async (i: number) => (seen.push(i), `text ${i}`),
      test: async (i: number) => done([i === k]),
    });
    expect(await generateUntilPass(passAt(2))).toEqual({ passed: 2, tried: 3, reason: 'passed' });
    expect(seen).toEqual([0, 1, 2]);
    expect(await generateUntilPass(passAt(99))).toEqual({ passed: null, tried: 5, reason: 'attempts' });
    let t = 0;
    const slow = { ...passAt(99), now: () => t, generate: async () => ((t += 400), 'x') };
    expect(await generateUntilPass({ ...slow, budgetMs: 1000 })).toEqual({ passed: null, tried: 3, reason: 'budget' });
    expect(await generateUntilPass({ ...passAt(99), generate: async () => null })).toEqual({ passed: null, tried: 1, reason: 'stopped' });
  });
});
