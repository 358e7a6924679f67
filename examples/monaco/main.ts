// Monaco with Quicksilver's inline completions, through the library's public API only. Monaco is
// the page's own (a slim build: the editor API, ghost text and Python highlighting), passed to
// registerCompletions. `window.editor` is there for tests and DevTools.

import * as monaco from 'monaco-editor/editor/editor.api';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import 'monaco-editor/features/inlineCompletions/register';
import 'monaco-editor/languages/definitions/python/register';
import { createQuicksilver, registerCompletions } from 'quicksilver';
import { registerServiceWorker } from '../registerSW';

registerServiceWorker();
self.MonacoEnvironment = { getWorker: () => new EditorWorker() };
const params = new URLSearchParams(location.search);
const status = document.querySelector<HTMLSpanElement>('#status')!;

const editor = monaco.editor.create(document.querySelector<HTMLDivElement>('#editor')!, {
  value: 'def total(numbers):\n    """Sum of the numbers."""\n    s = 0\n',
  language: 'python',
  minimap: { enabled: false },
  quickSuggestions: false,
  inlineSuggest: { enabled: true },
});
(window as unknown as { editor: typeof editor }).editor = editor;

const qs = createQuicksilver({
  model: params.get('model') ?? 'qs-code-diffusion-tiny',
  engine: (params.get('engine') as 'auto' | 'webgpu' | 'cpu' | null) ?? 'auto',
  baseUrl: '../models/',
});
qs.load().then(
  (m) => {
    status.dataset.state = 'ready';
    status.dataset.fromCache = String(m.fromCache);
    status.textContent = `${m.modelId} on ${m.engine}${m.fromCache ? ', from the offline cache' : ''}`;
    registerCompletions(monaco, editor, qs, {
      knobs: { genLength: 24 },
      onResult: (r) => (status.dataset.completions = String(Number(status.dataset.completions ?? 0) + (r.text ? 1 : 0))),
    });
  },
  (err: Error) => {
    status.dataset.state = 'error';
    status.textContent = `${err.name}: ${err.message}`;
  },
);
