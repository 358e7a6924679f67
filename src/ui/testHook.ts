// window.__qs: a small, stable handle for end-to-end tests (and curious users in DevTools).
// It only forwards to the library client (src/lib/client.ts) and the page's state; arguments and results are plain data so
// Playwright can pass them through page.evaluate.

import { workerClient } from './workerClient';
import type { LoadModelResponse, ProbeResponse } from '../protocol';
import type { monaco } from './monaco';
import { finishedRuns, type RunSummary } from './runner';
import { appendToEditor } from './editorText';
import { pythonSandbox, testLog, type TestLogEntry } from './pythonTests';
import type { WarmInfo } from '../python/sandbox';

export interface TestHook {
  probe(): Promise<ProbeResponse>;
  crossOriginIsolated: boolean;
  /** loadModel in the worker; failures come back as { error: name, message }. */
  loadModel(modelId: string): Promise<LoadModelResponse | { error: string; message: string }>;
  /** generate() in the worker without the UI; failures come back as { error: name, message }. */
  generate(req: { modelId?: string; prompt: string; genLength: number; truncate?: boolean }): Promise<{ modelKind: string; steps: number; text: string } | { error: string; message: string }>;
  /** Runs that finished (generate, race, fill), oldest first. */
  runs(): RunSummary[];
  /** Destroy the worker's GPU device (as if it were lost). */
  loseDevice(): Promise<void>;
  /** Free a model in the worker (as the engine setting does). */
  unloadModel(modelId: string): Promise<void>;
  /** Test runs of the code (Pyodide), oldest first, and the Python worker's cold starts. */
  tests(): { log: TestLogEntry[]; starts: WarmInfo[]; coldStarts: number };
  /** The Monaco editor, once created. */
  editor?: monaco.editor.IStandaloneCodeEditor;
  /** Append text to the editor the way "Append to editor" does (src/ui/editorText.ts). */
  appendToEditor(text: string): boolean;
}

declare global {
  interface Window {
    __qs?: TestHook;
  }
}

export function installTestHook(): void {
  window.__qs = {
    probe: () => workerClient().probe(),
    crossOriginIsolated: window.crossOriginIsolated,
    async loadModel(modelId) {
      try {
        return await workerClient().load({ model: modelId });
      } catch (err) {
        const e = err as { name?: string; message?: string };
        return { error: e.name ?? 'Error', message: e.message ?? String(err) };
      }
    },
    async generate(req) {
      try {
        const r = await workerClient().generate(req.prompt, { model: req.modelId, genLength: req.genLength, truncate: req.truncate });
        return { modelKind: r.modelKind, steps: r.stats.steps, text: r.text };
      } catch (err) {
        const e = err as { name?: string; message?: string };
        return { error: e.name ?? 'Error', message: e.message ?? String(err) };
      }
    },
    runs: () => finishedRuns.map((r) => ({ ...r })),
    loseDevice: () => workerClient().loseDevice(),
    unloadModel: (modelId) => workerClient().unload(modelId),
    appendToEditor: (text) => (window.__qs?.editor ? appendToEditor(window.__qs.editor, text) : false),
    tests: () => {
      const starts = pythonSandbox().starts.map((s) => ({ ...s }));
      return { log: testLog.map((e) => ({ ...e })), starts, coldStarts: starts.length };
    },
  };
}

export function setTestEditor(editor: monaco.editor.IStandaloneCodeEditor): void {
  if (window.__qs) window.__qs.editor = editor;
}
