// Turning an infill result into the edit an inline completion makes (pure; tested without Monaco).
//
// The text right of the cursor matters. Typing `for i in range(` in Monaco auto-closes the
// bracket, so the cursor sits before `)`. The model sees that `)` in its suffix, but often writes
// the whole rest of the line anyway (`n):`); inserted at the cursor that gave `range(n):)`. So when
// the completion contains the rest of the line as a subsequence (auto-closed brackets and quotes,
// in order), the edit replaces the rest of the line instead: nothing the user typed is lost (every
// character of it is in the completion) and nothing is doubled. Otherwise (the model filled only
// the hole: `foo(|, b)` → `a`) the completion goes in at the cursor.

import { blockEnd } from '../diffusion/stopRule';

/** An edit on the cursor's line: `text` replaces the `replace` characters right of the cursor. */
export interface CompletionEdit {
  text: string;
  replace: number;
}

/** True when every character of `needle` appears in `hay` in order (greedy match). */
export function isSubsequence(needle: string, hay: string): boolean {
  let i = 0;
  for (let j = 0; i < needle.length && j < hay.length; j++) if (hay[j] === needle[i]) i++;
  return i === needle.length;
}

/** What the edit needs to know besides the completion and the rest of the line. */
export interface CompletionContext {
  /** The cursor's line left of the cursor: its indentation, and whether it opens a block. */
  lineBefore?: string;
  /**
   * 'length' when the model ran out of tokens (its last line may stop half way); 'eos' when it
   * ended; 'stop' when the run stopped where this cut ends it anyway (SamplerKnobs.stopAt).
   */
  finishReason?: 'eos' | 'length' | 'stop';
}

/**
 * A multi-line completion cut to the cursor's block (`lines[0]` continues the cursor's line;
 * stopRule.ts blockEnd: the line that leaves the block and all after it go). With `cutLast`, a
 * last line that the cut did not reach is dropped too (the token budget may have ended it half
 * way), unless it is the only one.
 */
function inBlock(lines: string[], lineBefore: string, cutLast: boolean): string[] {
  const end = blockEnd(lines, lineBefore);
  if (end >= 0) return lines.slice(0, end);
  return cutLast && lines.length > 1 ? lines.slice(0, -1) : lines;
}

/**
 * The edit for completion `text` with `restOfLine` right of the cursor, or null for none.
 * At the end of a line (nothing but whitespace after the cursor) the completion may span several
 * lines, kept to the cursor's block (`inBlock`, given `context.lineBefore`); in the middle of
 * one, Monaco shows ghost text on that line only, so it is cut at its first line break. Trailing
 * spaces and blank lines are dropped; nothing but whitespace is no completion.
 */
export function completionEdit(text: string, restOfLine: string, context: CompletionContext = {}): CompletionEdit | null {
  const rest = restOfLine.replace(/\s+$/, '');
  let out = rest !== '' ? text.split('\n')[0]! : text;
  if (rest === '' && context.lineBefore !== undefined) {
    out = inBlock(out.split('\n'), context.lineBefore, context.finishReason === 'length').join('\n');
  }
  out = out.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
  if (out.trim() === '') return null;
  if (rest === '') return { text: out, replace: 0 };
  if (isSubsequence(rest, out)) return { text: out, replace: rest.length };
  return { text: out, replace: 0 };
}
