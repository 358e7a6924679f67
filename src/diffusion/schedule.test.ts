import { describe, expect, it } from 'vitest';
import { numTransferTokens, splitBlocks } from './schedule';

describe('numTransferTokens (LLaDA get_num_transfer_tokens)', () => {
  it('splits n over steps: sums to n, differs by at most one, larger first', () => {
    for (let n = 0; n <= 40; n++) {
      for (let steps = 1; steps <= 17; steps++) {
        const split = numTransferTokens(n, steps);
        expect(split).toHaveLength(steps);
        expect(split.reduce((a, b) => a + b, 0)).toBe(n);
        expect(Math.max(...split) - Math.min(...split)).toBeLessThanOrEqual(1);
        for (let i = 1; i < steps; i++) expect(split[i]).toBeLessThanOrEqual(split[i - 1]);
      }
    }
  });

  it('recomputing the first entry from what is left reproduces the whole split', () => {
    // This is how the sampler uses it: k = numTransferTokens(masked, stepsLeft)[0] every step.
    for (let n = 0; n <= 40; n++) {
      for (let steps = 1; steps <= 17; steps++) {
        const dynamic: number[] = [];
        let left = n;
        for (let s = steps; s >= 1; s--) {
          const k = numTransferTokens(left, s)[0];
          dynamic.push(k);
          left -= k;
        }
        expect(dynamic).toEqual(numTransferTokens(n, steps));
        expect(left).toBe(0);
      }
    }
  });
});

describe('splitBlocks', () => {
  it('covers [start, end) with consecutive blocks, the last possibly shorter', () => {
    expect(splitBlocks(3, 13, 4)).toEqual([
      [3, 7],
      [7, 11],
      [11, 13],
    ]);
    expect(splitBlocks(0, 8, 8)).toEqual([[0, 8]]);
    expect(splitBlocks(5, 6, 3)).toEqual([[5, 6]]);
  });
});
