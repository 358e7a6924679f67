import { describe, expect, it } from 'vitest';
import { pythonSyntaxError } from './pythonSyntax';

describe('pythonSyntaxError', () => {
  it('an unfinished program is not an error', () => {
    for (const t of ['def f(x):\n', 'def f(x):\n    """doc\n    more', 'def f(x):\n    return x +', 'def f(x):\n    if x:\n', 'def f(x):\n    x = [1,\n    2', 'def f(x):\n    ret', 'def f(x):\n    return x\n']) {
      expect(pythonSyntaxError(t), JSON.stringify(t)).toBe(-1);
    }
  });

  it('finds what no continuation fixes, and where', () => {
    expect(pythonSyntaxError('def f(x):\nreturn x\n')).toBe(10); // no indented body
    expect(pythonSyntaxError('def f(x):\n    return x)\n')).toBe(22);
    expect(pythonSyntaxError('def f(x):\n    for i in range(3)\n        pass\n')).toBeGreaterThan(0);
  });

  it('looks only at or after `from` (the prompt may hold errors of its own)', () => {
    const t = 'x = )\ndef f(x):\n    return x)\n';
    expect(pythonSyntaxError(t)).toBe(4);
    expect(pythonSyntaxError(t, 6)).toBe(t.lastIndexOf(')'));
    expect(pythonSyntaxError('x = )\ndef f(x):\n    return x\n', 6)).toBe(-1);
  });
});

describe('pythonSyntaxError on an indented prompt (a method)', () => {
  it('reads the text dedented by its first line, and reports offsets in the original', () => {
    const head = '        def f(self):\n';
    expect(pythonSyntaxError(head + '            return 1\n')).toBe(-1);
    expect(pythonSyntaxError(head + '            """doc\n', head.length)).toBe(-1);
    // a body no deeper than the def line
    expect(pythonSyntaxError(head + '        """doc"""\n', head.length)).toBe(head.length + 8);
    expect(pythonSyntaxError(head + '    x = 1\n', head.length)).toBe(head.length + 4);
  });
});
