import { describe, expect, it } from 'vitest';
import { completionEdit, isSubsequence } from './completionEdit';

/** The line after accepting `edit` at `cursor` of `line` (what Monaco's Tab does with the range). */
function accept(line: string, cursor: number, text: string): string | null {
  const edit = completionEdit(text, line.slice(cursor));
  return edit === null ? null : line.slice(0, cursor) + edit.text + line.slice(cursor + edit.replace);
}

describe('completionEdit', () => {
  it('an auto-closed bracket the completion writes again is replaced, not doubled (issue 14)', () => {
    const line = '    for i in range()';
    expect(accept(line, line.length - 1, 'n):\n        total += i\n')).toBe('    for i in range(n):');
    expect(completionEdit('n):', ')')).toEqual({ text: 'n):', replace: 1 });
  });
  it('auto-closed quotes and several closers, in order', () => {
    const line = '    print(f"")';
    expect(accept(line, line.length - 2, '{x}")')).toBe('    print(f"{x}")');
    expect(accept('    d = {[]}', 10, '1, 2], 3}')).toBe('    d = {[1, 2], 3}');
  });
  it('a completion that only fills the hole goes in at the cursor, keeping what follows', () => {
    const line = '    f(, b)';
    expect(completionEdit('a', ', b)')).toEqual({ text: 'a', replace: 0 });
    expect(accept(line, 6, 'a')).toBe('    f(a, b)');
    // Not every closer of the rest is in the completion: nothing typed is dropped.
    expect(accept('    range()', 10, 'n:')).toBe('    range(n:)');
  });
  it('keeps several lines at the end of a line, one line in the middle of one', () => {
    expect(completionEdit('x = 1\n    return x\n\n', '')).toEqual({ text: 'x = 1\n    return x', replace: 0 });
    expect(completionEdit('x = 1\n    return x\n\n', '   ')).toEqual({ text: 'x = 1\n    return x', replace: 0 });
    expect(completionEdit('x = 1\n    return x', ')')?.text).toBe('x = 1');
  });
  it('keeps a multi-line completion to the cursor\'s block', () => {
    // the end of a function: a small model runs on into a new one; nothing of it is shown
    const fib = "\n\n\ndef _is_primess(n, n, n, n, n = n - n - n -";
    expect(completionEdit(fib, '', { lineBefore: '    return a + b', finishReason: 'length' })).toBeNull();
    // a statement: more of the same block, up to its end
    const body = '\n    total += i\n    return total\n\ndef other():\n    pass';
    expect(completionEdit(body, '', { lineBefore: '    total = 0' })?.text).toBe('\n    total += i\n    return total');
    // a line that opens a block: its body, not the next line at the header's depth
    const loop = 'n):\n        s += i\n    return s\n';
    expect(completionEdit(loop, '', { lineBefore: '    for i in range(' })?.text).toBe('n):\n        s += i');
    expect(completionEdit('\n    """Add."""\n    return a + b\n\n\nclass C:', '', { lineBefore: 'def add(a, b):  # sum' })?.text).toBe(
      '\n    """Add."""\n    return a + b',
    );
    // deeper lines and blank lines inside the block stay
    expect(completionEdit('\n    if x:\n\n        y = 1\n    z = 2', '', { lineBefore: '    x = f()' })?.text).toBe('\n    if x:\n\n        y = 1\n    z = 2');
    // without lineBefore (a library caller of the old signature): as before
    expect(completionEdit(fib, '')?.text).toBe(fib);
  });
  it('drops a last line the token budget may have cut, unless it is the only one', () => {
    const text = 'x = 1\n    y = x +';
    expect(completionEdit(text, '', { lineBefore: '    ', finishReason: 'length' })?.text).toBe('x = 1');
    expect(completionEdit(text, '', { lineBefore: '    ', finishReason: 'eos' })?.text).toBe(text);
    expect(completionEdit('x = [1, 2,', '', { lineBefore: '    ', finishReason: 'length' })?.text).toBe('x = [1, 2,');
    // a block cut already ended it: the last kept line is whole
    expect(completionEdit('s += i\nreturn s', '', { lineBefore: '        ', finishReason: 'length' })?.text).toBe('s += i');
    // ended on a line break: every line is whole
    expect(completionEdit('x = 1\n    y = 2\n', '', { lineBefore: '    ', finishReason: 'length' })?.text).toBe('x = 1\n    y = 2');
  });
  it('drops trailing whitespace; whitespace only is no completion', () => {
    expect(completionEdit('a  \nb\t\n', '')?.text).toBe('a\nb');
    expect(completionEdit('  \n\n', '')).toBeNull();
    expect(completionEdit('', '')).toBeNull();
    expect(completionEdit('\nfoo', 'bar')).toBeNull();
  });
  it('isSubsequence', () => {
    expect(isSubsequence(')', 'n):')).toBe(true);
    expect(isSubsequence('")', 'x")')).toBe(true);
    expect(isSubsequence(')"', 'x")')).toBe(false);
    expect(isSubsequence('', 'abc')).toBe(true);
  });
});
