// A slim Monaco: the core editor API, the editing features we want, Python highlighting and
// our theme. Importing 'monaco-editor' itself would pull in ~80 languages and the TS/CSS/HTML
// language services (megabytes the service worker would have to precache).
//
// Everything is bundled by Vite; the editor worker is a Vite worker import, so nothing loads
// from a CDN at run time.

import * as monaco from 'monaco-editor/editor/editor.api';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';

import 'monaco-editor/features/codicon/register'; // the icon font (folding arrows, find widget)
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/gotoLine/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/inlineCompletions/register'; // ghost text: complete at cursor
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/quickCommand/register';
import 'monaco-editor/features/suggest/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
import 'monaco-editor/languages/definitions/python/register';

self.MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

export const THEME = 'quicksilver-dark';
export const LIGHT_THEME = 'quicksilver-light';

/** Monaco theme name for the page theme. */
export function themeFor(theme: 'dark' | 'light'): string {
  return theme === 'dark' ? THEME : LIGHT_THEME;
}

monaco.editor.defineTheme(THEME, {
  base: 'vs-dark',
  inherit: true,
  rules: [
    { token: 'comment', foreground: '6b7a90', fontStyle: 'italic' },
    { token: 'keyword', foreground: 'c792ea' },
    { token: 'string', foreground: 'a5d6a7' },
    { token: 'number', foreground: 'f78c6c' },
  ],
  colors: {
    'editor.background': '#11151c',
    'editor.lineHighlightBackground': '#1a2029',
    'editorLineNumber.foreground': '#3c4656',
    'editorLineNumber.activeForeground': '#8a97ab',
    'editorGutter.background': '#11151c',
    'editor.selectionBackground': '#2c3d55',
    'editorIndentGuide.background1': '#1f2630',
  },
});

monaco.editor.defineTheme(LIGHT_THEME, {
  base: 'vs',
  inherit: true,
  rules: [
    { token: 'comment', foreground: '6a7382', fontStyle: 'italic' },
    { token: 'keyword', foreground: '8a3fc7' },
    { token: 'string', foreground: '2f7d32' },
    { token: 'number', foreground: 'b5522b' },
  ],
  colors: {
    'editor.background': '#ffffff',
    'editor.lineHighlightBackground': '#f3f6fa',
    'editorLineNumber.foreground': '#b4bcc8',
    'editorLineNumber.activeForeground': '#5c6879',
    'editorGutter.background': '#ffffff',
    'editor.selectionBackground': '#cfe0fb',
    'editorIndentGuide.background1': '#e8ecf1',
  },
});

export { monaco };
