// The sampler's Python syntax check (SamplerHooks.syntax), on @lezer/python: pure JavaScript,
// error-recovering, a fraction of a millisecond for a function (bench/parser.bench.ts compares
// it with web-tree-sitter). The text being checked is the start of a program, so what is merely
// unfinished is not an error: lezer puts those error nodes at the end of the input (an open
// bracket, string, block or expression), and only errors before the text's last non-blank
// character count, e.g. a body no deeper than its `def` line, a stray `)`, a missing colon once
// the next line has come.

import { parser } from '@lezer/python';
import type { TextTail } from './types';

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

/*
 * What a Python text still needs to end cleanly (TextTail, the sampler's SamplerHooks.tail): a lexical scan
 * (strings, comments, brackets, line ends, block headers) kept as a state, so the cost of the
 * text plus a candidate token is a scan of the token's few characters.
 * `cost`: the fewest tokens that end the text so that it parses whole, counting one to close an
 * open string, one per open bracket, one for a missing operand (after an operator, or a keyword
 * such as `and`, `not`, `in`), one for a compound statement's missing `:`, then for a block
 * header with no body yet a line break (with its indentation) and one statement, and the line
 * break that ends the last line. One token each is what a tokenizer can always write (a quote, a
 * bracket, `pass`, a line break), so a text of cost n can be ended in n tokens. Errors are
 * pythonSyntaxError's business: this scan never reports one, and a stray closer is ignored.
 */

const COMPOUND = new Set(['if', 'elif', 'else', 'while', 'for', 'with', 'try', 'except', 'finally', 'def', 'class', 'async']);
/** Words an expression must follow (a line ending in one lacks an operand). */
const NEEDS_OPERAND = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'elif', 'while', 'for', 'with', 'assert', 'del', 'import', 'from', 'lambda', 'as', 'await', 'global', 'nonlocal', 'class', 'def', 'else']);
/** ... except as a line's first word, where nothing needs to follow but the ':'. */
const ALONE_OK = new Set(['else', 'try', 'finally', 'except']);
const OPERATOR = '=+-*/%<>&|^~@.!';
const WORD = /[A-Za-z0-9_\u0080-\uffff]/;
/** What a decorated function costs at least: `def`, a name, `():`, a line break, a statement, a line break. */
const DEF_COST = 8;
/** The cost of a text no continuation can end cleanly. */
const UNFIXABLE = 1 << 20;

interface TailState {
  /** Inside a string: its quote, triple or not, quotes seen in a row, after a backslash, just opened. */
  str: { q: string; triple: boolean; run: number; escaped: boolean; opened: boolean } | null;
  /** An empty '' or "" just closed: a third quote now opens a triple-quoted string. */
  pair: string;
  comment: boolean;
  brackets: string[];
  /** A backslash just before the line break (an explicit line continuation). */
  backslash: boolean;
  /** The current physical line's indentation, and whether anything but white space came yet. */
  indent: number;
  started: boolean;
  /** The logical line: its indentation, first word ('-' for a non-word), the word being read,
   *  its last significant thing, and whether it has any. */
  lineIndent: number;
  first: string;
  word: string;
  last: 'none' | 'operand' | 'operator' | 'open' | 'colon' | 'comma';
  content: boolean;
  /** A ':' outside brackets on the logical line (a compound statement with it is not waiting for one). */
  colon: boolean;
  /** The indentation of a block header whose body has no statement yet (-1: none). */
  pending: number;
  /** A decorator line ended: a `def` or `class` must follow. */
  decorated: boolean;
  /** The last word read, the `.`s in a row just read, and whether the last character was a ':'
   *  outside brackets (with what `colon` was before it: `:=` is an operator, not a header's ':'). */
  lastWord: string;
  dots: number;
  justColon: boolean;
  colonBefore: boolean;
}

/** The line's first word and its last significant thing once the word being read ends. */
function wordEnds(s: TailState): { first: string; last: TailState['last'] } {
  if (s.word === '') return { first: s.first, last: s.last };
  const isFirst = s.first === '';
  return { first: isFirst ? s.word : s.first, last: NEEDS_OPERAND.has(s.word) && !(isFirst && ALONE_OK.has(s.word)) ? 'operator' : 'operand' };
}

function endWord(s: TailState): void {
  if (s.word === '') return;
  s.lastWord = s.word;
  Object.assign(s, wordEnds(s));
  s.word = '';
}

/** A significant character that is not part of a word. */
function mark(s: TailState, last: TailState['last']): void {
  if (s.first === '') s.first = '-';
  s.content = true;
  s.last = last;
}

function scanTail(s: TailState, text: string): void {
  for (const ch of text) {
    const st = s.str;
    if (st) {
      if (st.escaped) {
        st.escaped = false; // whatever it is (a quote, a line break) it does not end the string
        st.run = 0;
        st.opened = false;
        continue;
      } else if (ch === '\\') {
        st.escaped = true;
      } else if (ch === st.q) {
        st.run++;
        if (!st.triple || st.run === 3) {
          s.str = null;
          s.pair = !st.triple && st.opened ? ch : ''; // '' or "": a third quote makes it triple
          mark(s, 'operand');
        }
        st.opened = false;
        continue;
      }
      st.run = 0;
      st.opened = false;
      if (ch !== '\n') continue;
      if (st.triple) continue;
      s.str = null; // a line break ends an unterminated string (lezer reports the error)
    }
    if (s.comment) {
      if (ch !== '\n') continue;
      s.comment = false;
    }
    if (s.pair !== '' && ch === s.pair) {
      s.str = { q: ch, triple: true, run: 0, escaped: false, opened: false };
      s.pair = '';
      continue;
    }
    s.pair = '';
    if (ch === '\n') {
      endWord(s);
      if (s.backslash || s.brackets.length > 0) {
        s.backslash = false; // the logical line goes on
        continue;
      }
      if (s.content) {
        if (s.pending >= 0 && s.lineIndent > s.pending) s.pending = -1; // the body's first statement
        if (s.last === 'colon') s.pending = s.lineIndent;
        s.decorated = s.first === '@';
      }
      Object.assign(s, { indent: 0, started: false, content: false, colon: false, first: '', last: 'none', justColon: false, dots: 0 });
      continue;
    }
    s.backslash = false;
    if (!s.started) {
      if (ch === ' ') { s.indent++; continue; }
      if (ch === '\t') { s.indent += 8 - (s.indent % 8); continue; }
      if (ch === '\r' || ch === '\f') continue;
      s.started = true;
      if (!s.content) s.lineIndent = s.indent;
    }
    const afterColon = s.justColon;
    s.justColon = false;
    if (ch !== '.') s.dots = 0;
    if (WORD.test(ch)) {
      s.word += ch;
      s.content = true;
      continue;
    }
    const ended = s.word;
    endWord(s);
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f') continue;
    if (ch === '#') { s.comment = true; continue; }
    if (ch === '\\') { s.backslash = true; continue; }
    if (ch === '"' || ch === "'") {
      if (s.first === '') s.first = '-';
      s.content = true;
      s.str = { q: ch, triple: false, run: 0, escaped: false, opened: true };
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') { s.brackets.push(ch); mark(s, 'open'); continue; }
    if (ch === ')' || ch === ']' || ch === '}') { s.brackets.pop(); mark(s, 'operand'); continue; }
    if (ch === ':') {
      if (s.brackets.length === 0) [s.colonBefore, s.colon, s.justColon] = [s.colon, true, true];
      // a slice's ':' may close (`x[1:]`); a dict's or a lambda's needs what follows
      mark(s, s.brackets.length === 0 ? 'colon' : s.brackets[s.brackets.length - 1] === '[' ? 'open' : 'operator');
      continue;
    }
    if (ch === ',') { mark(s, 'comma'); continue; }
    if (ch === ';') { mark(s, 'none'); continue; }
    if (ch === '=' && afterColon) s.colon = s.colonBefore; // `:=`
    if (ch === '@' && s.first === '') s.first = '@'; // a decorator (or a line starting with a matmul: an error)
    if (ch === '.') {
      // `...` and a number's decimal point end an operand; other dots want a name after them
      s.dots++;
      mark(s, s.dots === 3 || (s.dots === 1 && /^[0-9]/.test(ended)) ? 'operand' : 'operator');
      continue;
    }
    if (ch === '*' && s.last === 'operator' && s.lastWord === 'import') { mark(s, 'operand'); continue; } // import *
    mark(s, OPERATOR.includes(ch) ? 'operator' : 'operand');
  }
}

function tailCost(s: TailState): number {
  const { first, last } = wordEnds(s); // the word being read ends here (s itself unchanged)
  // a statement no deeper than the header of a body still empty: an error no text can fix; a
  // comment there is not, for Python, but it reads as the block's end (and training/eval.py cuts
  // a function at its first line no deeper than the `def`, comments included), so no more either
  if (s.pending >= 0 && (s.content ? s.lineIndent : s.comment ? s.indent : Infinity) <= s.pending) return UNFIXABLE;
  let cost = s.brackets.length + (s.str ? 1 : 0) + (s.backslash ? 1 : 0);
  const closer = cost > 0; // the line's last thing will be a closer
  if (s.comment && s.brackets.length > 0) cost++; // a line break to end the comment before the closers
  if (!s.str && last === 'operator') cost++; // an operand (before any closer: `f(x.` needs `y)`)
  if (s.content) {
    const colon = !closer && last === 'colon';
    const header = colon || (COMPOUND.has(first) && !s.colon);
    if (header && !colon) cost++; // its ':'
    cost += header ? 3 : 1; // (a line break + indentation, a statement,) the last line break
    if (first === '@') cost += DEF_COST; // the decorated `def` after the decorator
  } else {
    if (s.decorated) cost += DEF_COST;
    if (s.comment) cost++; // the comment's line break
    // a statement of the body (more indentation first, if the line is not deeper yet), its line break
    if (s.pending >= 0) cost += 2 + (s.comment || s.indent > s.pending ? 0 : 1);
  }
  return cost;
}

function freshTail(): TailState {
  return { str: null, pair: '', comment: false, brackets: [], backslash: false, indent: 0, started: false, lineIndent: 0, first: '', word: '', last: 'none', content: false, colon: false, pending: -1, decorated: false, lastWord: '', dots: 0, justColon: false, colonBefore: false };
}

/** d ← s, reusing d's bracket stack (no allocation: costAfter runs for every token of the vocabulary). */
function copyTail(d: TailState, s: TailState): TailState {
  const brackets = d.brackets;
  Object.assign(d, s);
  d.brackets = brackets;
  brackets.length = 0;
  for (const b of s.brackets) brackets.push(b);
  d.str = s.str ? Object.assign(d === scratch ? scratchStr : { q: '', triple: false, run: 0, escaped: false, opened: false }, s.str) : null;
  return d;
}

const scratch = freshTail();
const scratchStr: NonNullable<TailState['str']> = { q: '', triple: false, run: 0, escaped: false, opened: false };

/** Words that matter to the scan; any other word (or number) scans like any other. */
const KEYWORDS = new Set([...COMPOUND, ...NEEDS_OPERAND, ...ALONE_OK]);
const canonical = new Map<string, string>();
/** `more` with each word that is not a keyword written 'a': texts that scan alike share a key. */
function scanKey(more: string): string {
  let k = canonical.get(more);
  if (k === undefined) canonical.set(more, (k = more.replace(/[A-Za-z0-9_\u0080-\uffff]+/g, (w) => (KEYWORDS.has(w) ? w : 'a'))));
  return k;
}

function tailOf(s: TailState): TextTail {
  let cost: number | undefined;
  let memo: Map<string, number> | undefined; // costAfter by scanKey
  return {
    get cost() {
      return (cost ??= tailCost(s));
    },
    after(more: string) {
      const next = copyTail(freshTail(), s);
      scanTail(next, more);
      return tailOf(next);
    },
    costAfter(more: string) {
      // (a text that goes on the word the tail ends in could make a keyword of it: scanned as is)
      const key = s.word !== '' && WORD.test(more.charAt(0)) ? '\0' + more : scanKey(more);
      let c = (memo ??= new Map()).get(key);
      if (c === undefined) {
        scanTail(copyTail(scratch, s), more);
        memo.set(key, (c = tailCost(scratch)));
      }
      return c;
    },
  };
}

/** What `text` needs to end cleanly (see above). */
export function pythonTail(text: string): TextTail {
  const s = freshTail();
  scanTail(s, text);
  return tailOf(s);
}
