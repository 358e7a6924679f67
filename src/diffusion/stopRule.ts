// Where a completion at the cursor is over (SamplerKnobs.stopAt), decided on the text as it is
// committed, so that a run stops decoding once the rest could only be thrown away.
//
// The same rule cuts the finished text (src/lib/completionEdit.ts): in the middle of a line the
// editor shows one line of ghost text, so a completion ends at its first line break ('line'); at
// the end of a line it may span several lines but ends with the cursor's block ('block'). Both
// are decided by lines already complete (or, for the line after a break, by its indentation,
// known from its first character), so stopping early never changes the text that is kept.

/** SamplerKnobs.stopAt: `'line'`: at the first line break; `'block'`: at the end of the cursor's block. */
export type StopAt = 'line' | 'block';

const indentOf = (line: string) => line.length - line.trimStart().length;

/**
 * Index of the first of `lines` (lines[0] continues the cursor's line, `lineBefore` is that line
 * left of the cursor) that lies outside the cursor's block, or -1 while none does: after a line
 * that opens a block (`if x:`), the first later non-blank line indented no deeper than it; after
 * any other line, the first indented less (a small model runs on into a new function nobody
 * asked for). A line counts once it has a character other than white space.
 */
export function blockEnd(lines: readonly string[], lineBefore: string): number {
  const current = lineBefore + (lines[0] ?? '');
  const indent = indentOf(current);
  const opens = /:\s*(#.*)?$/.test(current);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const d = indentOf(line);
    if (opens ? d <= indent : d < indent) return i;
  }
  return -1;
}

/** Whether `text`, written after `lineBefore` at the cursor, has already reached where `stopAt` ends it. */
export function reachedStop(text: string, lineBefore: string, stopAt: StopAt): boolean {
  if (stopAt === 'line') return text.includes('\n');
  return blockEnd(text.split('\n'), lineBefore) >= 0;
}
