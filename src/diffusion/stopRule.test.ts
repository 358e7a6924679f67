import { describe, expect, it } from 'vitest';
import { blockEnd, reachedStop } from './stopRule';

describe('stopRule', () => {
  it("'line' stops at the first line break, wherever it is", () => {
    expect(reachedStop('range(n)', 'for i in ', 'line')).toBe(false);
    expect(reachedStop('range(n):\n', 'for i in ', 'line')).toBe(true);
    expect(reachedStop('\n', 'x = ', 'line')).toBe(true);
  });

  it("'block' stops once a line leaves the cursor's block, judged by its indentation alone", () => {
    // after a plain line: a line indented less ends the block, one as deep does not
    expect(reachedStop('b\n    return a\n', '    a = ', 'block')).toBe(false);
    expect(reachedStop('b\n    return a\ndef', '    a = ', 'block')).toBe(true);
    expect(reachedStop('b\n    return a\n  ', '    a = ', 'block')).toBe(false); // indentation not known yet
    // after a line that opens a block: a line no deeper than it ends it
    expect(reachedStop('\n        return 1\n    x', '    if n < 2:', 'block')).toBe(true);
    expect(reachedStop('\n        return 1\n        x', '    if n < 2:', 'block')).toBe(false);
    expect(reachedStop('\n    x', '    if n < 2:', 'block')).toBe(true);
    // blank lines never end it; the cursor's own line never does
    expect(reachedStop('pass\n\n\n', '    ', 'block')).toBe(false);
    expect(reachedStop('pass', '', 'block')).toBe(false);
  });

  it('blockEnd gives the index of the first line outside, the same cut completionEdit makes', () => {
    expect(blockEnd(['a, b = 0, 1', '    for _ in range(n):', '        a, b = b, a + b', '    return a', 'def g():'], '    ')).toBe(4);
    expect(blockEnd(['', '    return x'], 'def f(x):')).toBe(-1);
    expect(blockEnd(['', 'return x'], 'def f(x):')).toBe(1);
    expect(blockEnd(['', 'y'], 'if a:  # why')).toBe(1);
  });
});
