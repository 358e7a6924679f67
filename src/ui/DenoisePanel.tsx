// Right-hand panel: the denoising view. Until the sampler exists it explains what will appear
// here and offers the GPU self-test; without WebGPU it shows the friendly notice instead.

import { NoWebGPU } from './NoWebGPU';
import { SelfTest } from './SelfTest';
import type { AdapterState } from './state';

/** A static picture of a half-denoised line: null = still masked. */
const PREVIEW: (string | null)[] = ['def', ' fib', '(n', '):', null, null, ' return', null, ' if', ' n', null, null, ' else', null, null];

export function DenoisePanel({ adapter }: { adapter: AdapterState }) {
  return (
    <section className="pane denoise-pane" aria-label="Denoising view" data-testid="denoise-panel">
      <div className="pane-title">Denoising</div>
      <div className="pane-body">
        {adapter.status === 'unavailable' ? (
          <NoWebGPU reason={adapter.reason} message={adapter.message} />
        ) : (
          <>
            <p className="lead">
              A masked-diffusion model writes code the way you fill in a crossword: every position
              starts masked, and each step commits the tokens it is surest of, anywhere in the span.
            </p>
            <div className="token-strip" aria-hidden="true">
              {PREVIEW.map((tok, i) =>
                tok === null ? (
                  <span key={i} className="tok tok-mask">
                    ▒▒
                  </span>
                ) : (
                  <span key={i} className="tok">
                    {tok}
                  </span>
                ),
              )}
            </div>
            <p className="muted">
              Each step of a run will appear here once a model is loaded.
            </p>
            {adapter.status === 'ready' ? <SelfTest /> : <p className="muted">Starting WebGPU…</p>}
          </>
        )}
      </div>
    </section>
  );
}
