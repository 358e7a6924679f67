// registerCompletions(): Monaco inline completions ("ghost text") from a Quicksilver client.
// After a pause in typing (Monaco's provider debounce) it infills at the cursor from the code
// before and after it; Tab accepts all, Ctrl/Cmd+Right the next word, the line binding the next
// line. Typing on cancels the run in flight (Monaco cancels its token; we abort the run).
//
// Monaco is a parameter, not an import: the page brings its own build (full or slim), and the
// library does not bundle a second copy.

import type * as MonacoApi from 'monaco-editor/editor/editor.api';
import type { GenerationResult, SamplerKnobs } from '../protocol';
import type { Quicksilver } from './client';
import { completionEdit } from './completionEdit';

export type Monaco = typeof MonacoApi;

export interface CompletionOptions {
  /** Checked before every request (e.g. a settings switch, or "the model is loaded"). Default: always. */
  enabled?: () => boolean;
  /** Which model infills; default the client's. Read per request when a function. */
  model?: string | (() => string | undefined);
  /** Pause in typing before a request, ms. Default 150 (COMPLETION_DEBOUNCE_MS). */
  debounceMs?: number;
  /**
   * Sampler knobs of each request (read per request when a function). Default: 32 new tokens,
   * greedy, the model's default decoding, truncated to fit the model, stopping where the
   * suggestion ends (`stopAt`: 'line' in the middle of a line, else 'block'; `stopAt: undefined`
   * here decodes all 32 tokens).
   */
  knobs?: Partial<SamplerKnobs> | (() => Partial<SamplerKnobs>);
  /** Language the provider serves; default the editor model's language. */
  language?: string;
  /** Keybinding (a Monaco KeyMod|KeyCode number) that accepts the next line of the suggestion; null: none. Default Ctrl/Cmd+Shift+Right while a suggestion shows. */
  acceptLineKeybinding?: number | null;
  /** Called when a request starts (true) and ends (false), for a "completing…" indicator. */
  onBusy?: (busy: boolean) => void;
  /** Called with every completed infill (stats for display), before it is shown. */
  onResult?: (result: GenerationResult) => void;
}

export interface CompletionsHandle {
  /** Ask for a suggestion at the cursor now (as Alt+\ does in the app). */
  trigger(): void;
  /** Accept the suggestion shown up to the end of its next word / line. */
  acceptWord(): void;
  acceptLine(): void;
  /** Remove the provider and the actions. */
  dispose(): void;
}

/**
 * Default pause in typing before a request. A completion costs ~15-35 ms here, so the pause is
 * most of the wait for a suggestion: at 150 ms it is ready ~170-240 ms after the last key instead
 * of ~470-530 at 450, with no more runs while typing at ~9 keys a second and no clear change in
 * key-to-paint latency; at 75 ms a run starts between most keys (bench/README.md "Typing",
 * bench/typing.mjs).
 */
export const COMPLETION_DEBOUNCE_MS = 150;

const DEFAULT_KNOBS: Partial<SamplerKnobs> = { genLength: 32, temperature: 0, truncate: true };

/**
 * Monaco (0.57) announces each new suggestion after `await timeout(50, token)` and leaves that
 * promise's rejection unhandled when the suggestion changes sooner (fast typing, accepting word
 * by word): an "Uncaught (in promise) Canceled" for nothing. Monaco ignores its own
 * CancellationError everywhere else; while completions are registered, so do we (only that
 * error: name and message both 'Canceled').
 */
function ignoreMonacoCancellation(): () => void {
  if (typeof window === 'undefined') return () => {};
  const onRejection = (e: PromiseRejectionEvent) => {
    const r = e.reason as { name?: unknown; message?: unknown } | null;
    if (r instanceof Error && r.name === 'Canceled' && r.message === 'Canceled') e.preventDefault();
  };
  window.addEventListener('unhandledrejection', onRejection);
  return () => window.removeEventListener('unhandledrejection', onRejection);
}

export function registerCompletions(
  monaco: Monaco,
  editor: MonacoApi.editor.IStandaloneCodeEditor,
  client: Quicksilver,
  options: CompletionOptions = {},
): CompletionsHandle {
  const language = options.language ?? editor.getModel()?.getLanguageId() ?? 'plaintext';
  const read = <T>(v: T | (() => T)): T => (typeof v === 'function' ? (v as () => T)() : v);

  const provider = monaco.languages.registerInlineCompletionsProvider(language, {
    displayName: 'Quicksilver',
    debounceDelayMs: options.debounceMs ?? COMPLETION_DEBOUNCE_MS,
    async provideInlineCompletions(model, position, _context, token) {
      // The provider is per language: serve only this editor's text.
      if (model !== editor.getModel() || (options.enabled && !options.enabled())) return { items: [] };
      const offset = model.getOffsetAt(position);
      const text = model.getValue();
      const prefix = text.slice(0, offset);
      if (prefix.trim() === '') return { items: [] };
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      options.onBusy?.(true);
      try {
        // The whole text after the cursor is the infill's suffix, the rest of this line included.
        // Decoding stops where completionEdit would cut the text anyway: at the first line break
        // in the middle of a line, else at the end of the cursor's block.
        const line = model.getLineContent(position.lineNumber);
        const restOfLine = line.slice(position.column - 1);
        const result = await client.infill(prefix, text.slice(offset), {
          ...DEFAULT_KNOBS,
          stopAt: restOfLine.trim() === '' ? 'block' : 'line',
          ...read(options.knobs ?? {}),
          model: read(options.model),
          signal: controller.signal,
        });
        if (token.isCancellationRequested) return { items: [] };
        options.onResult?.(result);
        const edit = completionEdit(result.text, restOfLine, {
          lineBefore: line.slice(0, position.column - 1),
          finishReason: result.finishReason,
        });
        if (edit === null) return { items: [] };
        const range = new monaco.Range(position.lineNumber, position.column, position.lineNumber, position.column + edit.replace);
        return { items: [{ insertText: edit.text, range }] };
      } catch (err) {
        if ((err as { name?: string }).name !== 'CancelledError') console.warn('[quicksilver] completion failed:', err);
        return { items: [] };
      } finally {
        sub.dispose();
        options.onBusy?.(false);
      }
    },
    disposeInlineCompletions() {},
  });

  const stopIgnoring = ignoreMonacoCancellation();
  const run = (id: string) => editor.trigger('quicksilver', id, {});
  const line = options.acceptLineKeybinding === undefined ? monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.RightArrow : options.acceptLineKeybinding;
  // Monaco binds "accept next word" to Ctrl/Cmd+Right itself; "next line" has no key of its own.
  const lineAction =
    line === null
      ? null
      : editor.addAction({
          id: 'quicksilver.acceptLine',
          label: 'Quicksilver: Accept the next line of the suggestion',
          keybindings: [line],
          keybindingContext: 'inlineSuggestionVisible',
          run: () => run('editor.action.inlineSuggest.acceptNextLine'),
        });

  return {
    trigger: () => run('editor.action.inlineSuggest.trigger'),
    acceptWord: () => run('editor.action.inlineSuggest.acceptNextWord'),
    acceptLine: () => run('editor.action.inlineSuggest.acceptNextLine'),
    dispose() {
      provider.dispose();
      lineAction?.dispose();
      stopIgnoring();
    },
  };
}
