// Right-hand panel of Generate mode: the model's status, then the live denoising view of the
// current run (stats, canvas, timeline) with its result actions; before the first run, a short
// explanation. Without WebGPU it shows the friendly notice instead.

import type { ReactNode } from 'react';
import { CanvasLegend } from './CanvasView';
import { ModelStatus } from './ModelStatus';
import { NoWebGPU } from './NoWebGPU';
import type { RunHandle } from './runner';
import { RunView } from './RunView';
import type { AdapterState, ModelState } from './state';

export interface DenoisePanelProps {
  adapter: AdapterState;
  model: ModelState;
  run: RunHandle | null;
  version: number;
  notes: string[];
  onRetryModel: () => void;
  /** Put the finished run's text into the editor (after the prompt, or into the filled hole). */
  onApply?: () => void;
  applyLabel?: string;
  /** No WebGPU, but the models run on the CPU engine. */
  cpuFallback?: boolean;
  /** The tests of the code (TestsPanel), under the run. */
  tests?: ReactNode;
}

export function DenoisePanel({ adapter, model, run, version, notes, onRetryModel, onApply, applyLabel, cpuFallback = false, tests }: DenoisePanelProps) {
  const rec = run?.record;
  return (
    <section className="pane denoise-pane" aria-label="Denoising view" data-testid="denoise-panel">
      <div className="pane-title">
        <span>Denoising</span>
        {rec ? <span className="pane-title-note">{rec.kind === 'infill' ? 'fill' : 'generate'} · {rec.modelId}</span> : null}
      </div>
      <div className="pane-body denoise-body">
        {adapter.status === 'unavailable' ? (
          <NoWebGPU reason={adapter.reason} message={adapter.message} cpuFallback={cpuFallback} />
        ) : null}
        {adapter.status !== 'unavailable' || cpuFallback ? (
          <>
            <ModelStatus state={model} adapter={adapter} onRetry={onRetryModel} />
            {notes.map((n) => (
              <p key={n} className="note" role="status">
                {n}
              </p>
            ))}
            {run ? (
              <>
                <RunView key={run.record.requestId} run={run} version={version} label="Canvas" />
                <div className="run-actions">
                  <CanvasLegend />
                  {onApply ? (
                    // Always there (disabled until the run is done) so nothing moves when it ends.
                    <button type="button" onClick={onApply} disabled={rec?.status !== 'done' || !rec.result?.text} data-testid="apply-result">
                      {applyLabel ?? 'Insert into editor'}
                    </button>
                  ) : null}
                </div>
              </>
            ) : (
              <Intro />
            )}
            {tests}
          </>
        ) : null}
      </div>
    </section>
  );
}

function Intro() {
  return (
    <div className="intro">
      <p className="lead">
        A masked-diffusion model writes code the way you fill in a crossword: every position starts
        masked, and each step commits the tokens it is surest of, anywhere in the span.
      </p>
      <ul className="intro-list">
        <li>
          <kbd>Ctrl</kbd>+<kbd>Enter</kbd> generates after the code in the editor and shows every step here.
        </li>
        <li>Pause while typing for a completion at the cursor (ghost text); <kbd>Tab</kbd> accepts it.</li>
        <li>
          Select code and press <kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>Enter</kbd> to rewrite it from what is around it.
        </li>
        <li>Race puts the same prompt through the autoregressive twin, side by side.</li>
      </ul>
      <CanvasLegend />
    </div>
  );
}
