// The sampler's Python syntax check (SamplerHooks.syntax), on @lezer/python: pure JavaScript,
// error-recovering, a fraction of a millisecond for a function (bench/parser.bench.ts compares
// it with web-tree-sitter). The text being checked is the start of a program, so what is merely
// unfinished is not an error: lezer puts those error nodes at the end of the input (an open
// bracket, string, block or expression), and only errors before the text's last non-blank
// character count, e.g. a body no deeper than its `def` line, a stray `)`, a missing colon once
// the next line has come.

import { parser } from '@lezer/python';

/** Offset of the first syntax error of `text` at or after `from` that more text cannot fix, or -1. */
export function pythonSyntaxError(text: string, from = 0): number {
  const d = dedent(text);
  const end = d.text.trimEnd().length;
  const start = d.fromOriginal(from);
  let first = -1;
  parser.parse(d.text).iterate({
    enter: (node) => {
      if (first >= 0 || node.to < start) return false; // found, or a subtree wholly before `from`
      if (node.type.isError && node.from >= start && node.from < end) first = node.from;
      return undefined;
    },
  });
  return first < 0 ? -1 : d.toOriginal(first);
}

/**
 * The text moved left by the indentation of its first line (a prompt is often a method's
 * header, indented, which Python only parses dedented: training/eval.py dedents too). A later
 * line indented less than that ends up at column 0, where it is the error it is.
 */
function dedent(text: string): { text: string; toOriginal: (n: number) => number; fromOriginal: (o: number) => number } {
  const lines = text.split('\n');
  const base = /^[ \t]*/.exec(lines.find((l) => l.trim() !== '') ?? '')![0].length;
  if (base === 0) return { text, toOriginal: (n) => n, fromOriginal: (o) => o };
  const removed = lines.map((l) => Math.min(base, /^[ \t]*/.exec(l)![0].length));
  const origStart: number[] = [];
  const newStart: number[] = [];
  let o = 0;
  let n = 0;
  for (const [i, l] of lines.entries()) {
    origStart.push(o);
    newStart.push(n);
    o += l.length + 1;
    n += l.length - removed[i]! + 1;
  }
  const lineOf = (starts: number[], x: number) => {
    let i = 0;
    while (i + 1 < starts.length && starts[i + 1]! <= x) i++;
    return i;
  };
  return {
    text: lines.map((l, i) => l.slice(removed[i])).join('\n'),
    toOriginal: (x) => {
      const i = lineOf(newStart, x);
      return origStart[i]! + removed[i]! + (x - newStart[i]!);
    },
    fromOriginal: (x) => {
      const i = lineOf(origStart, x);
      return newStart[i]! + Math.max(0, x - origStart[i]! - removed[i]!);
    },
  };
}
