// runner.py inside real Pyodide (the npm package, in Node): what the Tests panel shows.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import type { TestReport } from './protocol';

let py: PyodideAPI;
let run: (code: string, generated?: string, asserts?: string) => TestReport;

beforeAll(async () => {
  py = await loadPyodide();
  py.runPython(readFileSync(new URL('./runner.py', import.meta.url), 'utf8'));
  const fn = py.globals.get('run_tests') as (c: string, g: string, a: string) => string;
  run = (c, g = '', a = '') => JSON.parse(fn(c, g, a)) as TestReport;
}, 120_000);

const HEAD = `def add(a, b):
    """Add.

    >>> add(2, 3)
    5
    >>> add(1, 1)
    2
    """
`;

describe('runner.py', () => {
  it('runs every doctest example and every top-level assert, each its own result', () => {
    const r = run(HEAD, '    return a + b\n', 'assert add(1, 2) == 3\nassert add(0, 0) == 1, "zero"');
    expect(r.error).toBeNull();
    expect(r.tests.map((t) => [t.name, t.ok, t.line])).toEqual([
      ['assert add(1, 2) == 3', true, 10],
      ['assert add(0, 0) == 1, "zero"', false, 11],
      ['add: >>> add(2, 3)', true, 4],
      ['add: >>> add(1, 1)', true, 6],
    ]);
    expect(r.tests[1]!.detail).toMatch(/File "main\.py", line 11, in <module>[\s\S]*AssertionError: zero/);
  });

  it('a wrong result shows expected and got; an exception its traceback into the function', () => {
    const r = run(HEAD + '    >>> add(1, None)\n    1\n', '    return a - b\n');
    expect(r.error).toMatch(/SyntaxError/); // the docstring was already closed: the example is outside it
    const ok = run(HEAD.replace('    """\n', '    >>> add(1, None)\n    1\n    """\n'), '    return a - b\n');
    const [first, second, third] = ok.tests;
    expect(first).toMatchObject({ ok: false, detail: 'Expected:\n5\nGot:\n-1\n' });
    expect(second).toMatchObject({ ok: false });
    expect(third!.detail).toMatch(/File "main\.py", line \d+, in add\n\s+return a - b[\s\S]*TypeError/);
    expect(third!.detail).not.toContain('doctest.py');
  });

  it('drops trailing generated lines that do not parse, and says how many', () => {
    const r = run(HEAD, '    return a + b\n\nx = (1,\n', '');
    expect(r.droppedLines).toBe(2);
    expect(r.program).not.toContain('x = (1,');
    expect(r.tests.every((t) => t.ok)).toBe(true);
  });

  it('a syntax error in the fixed code, or a failing top-level statement, is the run error', () => {
    expect(run('def f(:\n').error).toMatch(/SyntaxError/);
    const r = run('x = 1\ny = 1 / 0\nassert False\n');
    expect(r.error).toMatch(/line 2[\s\S]*ZeroDivisionError/);
    expect(r.tests).toEqual([]);
  });

  it('runs each program in a fresh namespace', () => {
    run('leak = 1\n');
    expect(run('', '', "assert 'leak' not in globals()").tests[0]!.ok).toBe(true);
  });
});
