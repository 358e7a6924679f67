// One side of Race mode: a model's live view and, when done, its headline numbers.

import { formatMs, formatRate } from './format';
import { ModelStatus } from './ModelStatus';
import type { RunHandle } from './runner';
import { RunView } from './RunView';
import type { AdapterState, ModelState } from './state';

export interface RaceLaneProps {
  side: 'diffusion' | 'ar';
  title: string;
  modelId: string | null;
  model: ModelState;
  adapter: AdapterState;
  run: RunHandle | null;
  version: number;
  onRetryModel: () => void;
}

export function RaceLane({ side, title, modelId, model, adapter, run, version, onRetryModel }: RaceLaneProps) {
  const prefix = `race-${side}-`;
  const result = run?.record.result ?? null;
  return (
    <section className="race-lane" aria-label={title} data-testid={`race-${side}`} data-status={run?.record.status ?? 'idle'}>
      <header className="race-lane-head">
        <span className="race-lane-title">{title}</span>
        <span className="race-lane-model">{modelId ?? 'no model shipped'}</span>
      </header>
      <div className="race-lane-body">
        {model.status !== 'ready' ? <ModelStatus state={model} adapter={adapter} onRetry={onRetryModel} testId={`${prefix}model-status`} /> : null}
        <div className="race-result" data-testid={`${prefix}result`} data-done={result ? 'true' : 'false'}>
          <div className="race-figure">
            <span className="race-figure-value" data-testid={`${prefix}tps`} data-value={result ? result.stats.tokensPerSecond.toFixed(3) : ''}>
              {result ? formatRate(result.stats.tokensPerSecond) : '–'}
            </span>
            <span className="race-figure-label">tokens / s</span>
          </div>
          <div className="race-figure">
            <span className="race-figure-value" data-testid={`${prefix}tpf`}>
              {result && result.stats.forwards > 0 ? (result.stats.tokensGenerated / result.stats.forwards).toFixed(2) : '–'}
            </span>
            <span className="race-figure-label">tokens / forward pass</span>
          </div>
          <div className="race-figure">
            <span className="race-figure-value">{result ? formatMs(result.stats.ms) : '–'}</span>
            <span className="race-figure-label">total time</span>
          </div>
        </div>
        {run ? (
          <RunView key={run.record.requestId} run={run} version={version} label={title} testPrefix={prefix} />
        ) : (
          <p className="muted race-empty">Press Race to run the prompt in the editor through both models.</p>
        )}
      </div>
    </section>
  );
}
