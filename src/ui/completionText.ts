// Turning an infill result into ghost text Monaco can show (pure; tested without Monaco).

/**
 * Monaco shows multi-line ghost text only when nothing follows the cursor on its line, so with
 * text after the cursor the completion is cut at its first line break. Trailing spaces and
 * blank lines are dropped; nothing but whitespace means no completion (null).
 */
export function shapeCompletion(text: string, restOfLine: string): string | null {
  let out = restOfLine !== '' ? text.split('\n')[0]! : text;
  out = out.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
  return out.trim() === '' ? null : out;
}
