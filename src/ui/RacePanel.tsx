// Race mode: the same prompt through the diffusion model and its autoregressive twin, side by
// side. The runs share one GPU, so they go one after the other (which one first alternates from
// Race to Race); each side's clock covers only its own run. Where runs are short, both run a few
// more times silently after (rematch.ts) and the verdict gives the median. Tokens per forward
// pass is the number that carries over to real GPUs.

import { rematchSummary, type RematchRuns } from './rematch';
import type { RunHandle } from './runner';
import { RaceLane } from './RaceLane';
import type { AdapterState, ModelState } from './state';
import { NoWebGPU } from './NoWebGPU';

export interface RacePanelProps {
  adapter: AdapterState;
  diffusionId: string | null;
  arId: string | null;
  diffusionModel: ModelState;
  arModel: ModelState;
  diffusionRun: RunHandle | null;
  arRun: RunHandle | null;
  /** Which lane ran first in this Race (it alternates). */
  first: 'diffusion' | 'ar';
  /** Both lanes' tokens/s in the rematches after the visible runs (rematch.ts), once done. */
  rematch?: RematchRuns | null;
  version: number;
  onRetryModel: (id: string) => void;
  /** No WebGPU, but the models run on the CPU engine. */
  cpuFallback?: boolean;
}

export function RacePanel(p: RacePanelProps) {
  const d = p.diffusionRun?.record.result;
  const a = p.arRun?.record.result;
  let verdict = '';
  const summary = p.rematch ? rematchSummary(p.rematch) : null;
  if (d && a && d.stats.tokensPerSecond > 0 && a.stats.tokensPerSecond > 0) {
    const speed = d.stats.tokensPerSecond / a.stats.tokensPerSecond;
    const td = d.stats.tokensGenerated / Math.max(1, d.stats.forwards);
    const ta = a.stats.tokensGenerated / Math.max(1, a.stats.forwards);
    // with rematches the median leads: one run's ratio swings widely on a shared machine
    const ran = summary
      ? `Diffusion ran at a median ${summary.median.toFixed(2)}× the autoregressive twin's tokens/s here over ` +
        `${summary.pairs} more runs each, silent, taking turns, the prompt already cached (${summary.low.toFixed(2)}× to ` +
        `${summary.high.toFixed(2)}× run by run; ${speed.toFixed(2)}× in the runs shown)`
      : `Diffusion ran at ${speed.toFixed(2)}× the autoregressive twin's tokens/s here`;
    verdict =
      `${ran}, writing ` +
      `${td.toFixed(2)} vs ${ta.toFixed(2)} tokens per forward pass (a block-causal model runs one block ` +
      `against its KV cache per pass; an AR step one new token). Wall-clock speed on this engine says ` +
      `little about a real GPU; tokens per pass carry over. ${p.first === 'diffusion' ? 'The diffusion model' : 'The twin'} ran first ` +
      `this time; the order alternates from one Race to the next, since the first run after a pause is slower.`;
  }
  return (
    <section className="pane race-pane" aria-label="Race" data-testid="race-panel">
      <div className="pane-title">
        <span>Race</span>
        <span className="pane-title-note" data-testid="race-first" data-first={p.first}>same prompt, same settings, one GPU: the runs take turns</span>
      </div>
      {p.adapter.status === 'unavailable' && !p.cpuFallback ? (
        <div className="pane-body">
          <NoWebGPU reason={p.adapter.reason} message={p.adapter.message} />
        </div>
      ) : (
        <>
          <div className="race-lanes">
            <RaceLane
              side="diffusion"
              title="Diffusion"
              modelId={p.diffusionId}
              model={p.diffusionModel}
              adapter={p.adapter}
              run={p.diffusionRun}
              version={p.version}
              onRetryModel={() => p.diffusionId && p.onRetryModel(p.diffusionId)}
            />
            <RaceLane
              side="ar"
              title="Autoregressive twin"
              modelId={p.arId}
              model={p.arModel}
              adapter={p.adapter}
              run={p.arRun}
              version={p.version}
              onRetryModel={() => p.arId && p.onRetryModel(p.arId)}
            />
          </div>
          <p className="race-verdict" data-testid="race-verdict" aria-live="polite" data-runs={summary?.pairs ?? 1} data-median={summary ? summary.median.toFixed(2) : undefined}>
            {verdict}
          </p>
        </>
      )}
    </section>
  );
}
