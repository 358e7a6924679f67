import { describe, expect, it } from 'vitest';
import { pythonSyntaxError, pythonTail } from './pythonSyntax';

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

describe('pythonTail: the fewest tokens that end a text cleanly', () => {
  const cost = (t: string) => pythonTail(t).cost;

  it('counts closers, a missing operand or colon, a body and the last line break', () => {
    const cases: [string, number][] = [
      ['def f(x):\n    return x\n    ', 0], // ended: a line break after a statement
      ['def f(x):\n    return x', 1], // the line break
      ['def f(x):', 3], // line break + indentation, a statement, line break
      ['def f(x):\n    ', 2], // a statement, line break
      ['def f(x):\n    """doc', 2], // the quotes, line break
      ['def f(x):\n    """doc"""', 1],
      ["def f(x):\n    s = '''ab", 2],
      ["def f(x):\n    s = ''", 1], // an empty string, closed
      ['def f(x):\n    return "a\\"b', 2], // an escaped quote does not close
      ['def f(x):\n    x = foo(a, [b', 3], // ] ) and the line break
      ['def f(x):\n    x = a +', 2], // an operand
      ['def f(x):\n    y = f(self.', 3], // a name, ), line break
      ['def f(x):\n    y = x[1:', 2], // a slice may close at once
      ['def f(x):\n    d = {a:', 3], // a dict's value
      ['def f(x):\n    y = f(', 2],
      ['def f(x):\n    y = f(x,', 2],
      ['def f(x):\n    x = 1 \\', 2], // the backslash's line (one token), then the line break
      ['def f(x):\n    if x', 4], // ':' + a body
      ['def f(x):\n    else', 4],
      ['def f(x):\n    if x:\n        ', 2],
      ['def f(x): return 1', 1], // a one-line body
      ['def f(x):\n    # note', 3], // a comment is not a body
      ['def f(x):\n    # note\n    ', 2],
    ];
    for (const [t, c] of cases) expect(cost(t), JSON.stringify(t)).toBe(c);
  });

  it('a body that would start no deeper than its header cannot be ended cleanly', () => {
    const head = '        def f(self):\n';
    expect(cost(head + '        ')).toBe(3); // more indentation first
    expect(cost(head + '        return 1')).toBeGreaterThan(1000);
    expect(cost(head + '        # a comment at the def line reads as its end')).toBeGreaterThan(1000);
    expect(cost(head + '            # deeper: fine\n            ')).toBe(2);
    expect(cost(head + '            return 1\n        return 2')).toBe(1); // the body has a statement
  });

  it('after() and costAfter() give what scanning the whole text gives', () => {
    const text = 'def f(x):\n    """Sum.\n\n    >>> f(1)\n    """\n    total = [a for a in x if a\n             and b]  # done\n    return total + \\\n        1\n    ';
    for (let cut = 0; cut <= text.length; cut++) {
      const head = pythonTail(text.slice(0, cut));
      for (const more of [text.slice(cut, cut + 1), text.slice(cut, cut + 5), text.slice(cut)]) {
        const whole = cost(text.slice(0, cut) + more);
        expect(head.after(more).cost, JSON.stringify([cut, more])).toBe(whole);
        expect(head.costAfter(more), JSON.stringify([cut, more])).toBe(whole);
      }
    }
    expect(cost(text)).toBe(0);
  });
});

describe('pythonTail: the review cases', () => {
  const cost = (t: string) => pythonTail(t).cost;
  it('an escaped line break stays inside the string', () => {
    expect(cost("s = 'a\\\nb")).toBe(2); // the quote, the line break
    expect(cost("s = 'a\\\nb'")).toBe(1);
  });
  it('a comment inside brackets needs its own line break before the closers', () => {
    expect(cost('f(x  # c')).toBe(3);
    expect(cost('x = 1  # c')).toBe(1);
  });
  it('`...`, a decimal point and `import *` end an operand', () => {
    expect(cost('def f(): ...')).toBe(1);
    expect(cost('x = 1.')).toBe(1);
    expect(cost('from m import *')).toBe(1);
    expect(cost('x = a.')).toBe(2);
  });
  it('`:=` is not a header colon; a decorator needs its def', () => {
    expect(cost('while n := f()')).toBe(4); // ':' and a body
    expect(cost('@dec')).toBeGreaterThan(8);
    expect(cost('@dec\n')).toBeGreaterThanOrEqual(8);
    expect(cost('@dec\ndef f():\n    pass\n')).toBe(0);
  });
});
