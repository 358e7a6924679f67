// Putting generated text into the editor.

import type { monaco } from './monaco';

/**
 * Append `text` at the very end of the editor's text, as one undoable edit. The last line is
 * replaced by itself + `text` rather than inserting at the end position: Monaco takes a position
 * right after a lone high surrogate for the middle of a pair and moves it one to the left, so a
 * plain insert would land before that character (found by the Unicode fuzz test, issue #13).
 */
export function appendToEditor(editor: monaco.editor.IStandaloneCodeEditor, text: string): boolean {
  const model = editor.getModel();
  if (!model || !text) return false;
  const line = model.getLineCount();
  const range = { startLineNumber: line, startColumn: 1, endLineNumber: line, endColumn: model.getLineMaxColumn(line) };
  return editor.executeEdits('quicksilver', [{ range, text: model.getLineContent(line) + text, forceMoveMarkers: true }]);
}
