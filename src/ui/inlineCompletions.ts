// "Complete at cursor": a Monaco inline completions provider. After a pause in typing (or Alt+\)
// it infills at the cursor from the code before and after it; the result shows as ghost text and
// Tab accepts it. Typing on cancels the request in flight (Monaco cancels the token; we abort,
// and the source cancels the worker run).

import { shapeCompletion } from './completionText';
import { monaco } from './monaco';

export interface CompletionSource {
  enabled(): boolean;
  /** Text for the hole between prefix and suffix; null when unavailable or cancelled. */
  complete(prefix: string, suffix: string, signal: AbortSignal): Promise<string | null>;
}

/** Pause in typing before a request (Monaco's provider debounce). */
export const COMPLETION_DELAY_MS = 450;

export function registerInlineCompletions(source: CompletionSource): monaco.IDisposable {
  return monaco.languages.registerInlineCompletionsProvider('python', {
    displayName: 'Quicksilver',
    debounceDelayMs: COMPLETION_DELAY_MS,
    async provideInlineCompletions(model, position, _context, token) {
      if (!source.enabled()) return { items: [] };
      const offset = model.getOffsetAt(position);
      const text = model.getValue();
      const prefix = text.slice(0, offset);
      const suffix = text.slice(offset);
      if (prefix.trim() === '') return { items: [] };
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      try {
        const raw = await source.complete(prefix, suffix, controller.signal);
        if (raw === null || token.isCancellationRequested) return { items: [] };
        const rest = model.getLineContent(position.lineNumber).slice(position.column - 1);
        const insert = shapeCompletion(raw, rest);
        if (insert === null) return { items: [] };
        const range = new monaco.Range(position.lineNumber, position.column, position.lineNumber, position.column);
        return { items: [{ insertText: insert, range }] };
      } finally {
        sub.dispose();
      }
    },
    disposeInlineCompletions() {},
  });
}
