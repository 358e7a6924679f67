// Page layout: top bar, editor | denoising view, status bar.

import { CodeEditor } from './CodeEditor';
import { DenoisePanel } from './DenoisePanel';
import { StatusBar } from './StatusBar';
import type { ModelState } from './state';
import { useAdapter } from './useAdapter';
import { useOffline } from './useOffline';

const SAMPLE = `# Write a prompt, or mark a hole to infill.
def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
`;

/** Model loading arrives with the engine; until then the status bar says so. */
const NO_MODEL: ModelState = { status: 'none' };

export function App() {
  const adapter = useAdapter();
  const offline = useOffline();

  return (
    <div className="app" data-testid="app">
      <header className="top-bar">
        <span className="brand">
          <img src="/icons/icon.svg" alt="" width={22} height={22} />
          Quicksilver
        </span>
        <span className="tagline">diffusion code model, running in your browser</span>
        <span className="top-spacer" />
        <button type="button" className="primary" disabled title="Load a model first">
          Generate
        </button>
      </header>
      <main className="workspace">
        <section className="pane editor-pane" aria-label="Editor">
          <div className="pane-title">main.py</div>
          <div className="pane-body editor-body">
            <CodeEditor initialValue={SAMPLE} />
          </div>
        </section>
        <DenoisePanel adapter={adapter} />
      </main>
      <StatusBar adapter={adapter} model={NO_MODEL} offline={offline} />
    </div>
  );
}
