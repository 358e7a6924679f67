// A model's loading state: progress bar with bytes while loading, where the weights came from
// (network or offline cache), the adapter, and a clear message when loading fails or the GPU
// device is lost, with a way to try again.

import { ErrorNames } from '../protocol';
import { formatBytes, formatMs } from './format';
import { formatParams } from './modelsIndex';
import type { AdapterState, ModelState } from './state';

export interface ModelStatusProps {
  state: ModelState;
  adapter: AdapterState;
  onRetry?: () => void;
  testId?: string;
}

const PHASE_TEXT = {
  download: 'Downloading weights',
  verify: 'Checking SHA-256',
  upload: 'Uploading weights to the GPU',
  tune: 'Measuring the fastest matmul on this GPU',
  compile: 'Compiling kernels',
} as const;

const ERROR_TITLE: Record<string, string> = {
  [ErrorNames.ModelNotFound]: 'Model not found',
  [ErrorNames.ModelIntegrity]: 'The model download is damaged',
  [ErrorNames.ModelResponse]: 'The server sent a web page, not the model',
  [ErrorNames.DeviceLost]: 'The GPU was reset',
  [ErrorNames.WebGPUUnavailable]: 'WebGPU is not available',
  [ErrorNames.ModelLoading]: 'Still loading',
};

const ERROR_HINT: Record<string, string> = {
  [ErrorNames.ModelNotFound]: 'This model is not on the server. Pick another one in Settings.',
  [ErrorNames.ModelIntegrity]: 'A file did not match its checksum (an interrupted or corrupted download). Trying again downloads it afresh.',
  [ErrorNames.ModelResponse]: 'A model file was answered with an HTML page (an error or login page from the server or a proxy). Nothing of it was kept; try again later.',
  [ErrorNames.DeviceLost]: 'The browser or driver reset the GPU (another tab, a driver update or sleep can do this). The model has to be loaded again.',
  [ErrorNames.ModelLoad]: 'If you are offline, this model has not been cached yet: load it once while online.',
};

export function adapterName(adapter: AdapterState): string {
  if (adapter.status !== 'ready') return '';
  const a = adapter.adapter;
  return [a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || 'unknown adapter';
}

export function ModelStatus({ state, adapter, onRetry, testId = 'model-status' }: ModelStatusProps) {
  switch (state.status) {
    case 'none':
      return null;
    case 'loading': {
      const pct = Math.round(state.fraction * 100);
      const bytes =
        state.phase === 'download' && state.totalBytes > 0
          ? `${formatBytes(state.loadedBytes)} / ${formatBytes(state.totalBytes)}${state.fromCache ? ' · from the offline cache' : ''}`
          : '';
      return (
        <div className="model-card" data-testid={testId} data-state="loading" data-phase={state.phase}>
          <div className="model-card-head">
            <span className="model-card-title">Loading {state.modelId}</span>
            <span className="model-card-pct">{pct}%</span>
          </div>
          <div className="progress" role="progressbar" aria-label={`Loading ${state.modelId}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
            <div className="progress-fill" style={{ transform: `scaleX(${state.fraction})` }} />
          </div>
          <div className="model-card-detail">
            {PHASE_TEXT[state.phase]}
            {bytes ? ` · ${bytes}` : '…'}
          </div>
        </div>
      );
    }
    case 'ready':
      return (
        <div className="model-line" data-testid={testId} data-state="ready" data-from-cache={state.fromCache}>
          <span className="model-line-id">{state.modelId}</span>
          <span>{state.kind === 'diffusion' ? 'diffusion' : 'autoregressive'}</span>
          <span>{formatParams(state.parameterCount)} params</span>
          <span data-testid={`${testId}-source`}>{state.fromCache ? 'weights from the offline cache' : `${formatBytes(state.downloadBytes)} downloaded`}</span>
          {state.weightBytes ? <span data-testid={`${testId}-memory`}>{formatBytes(state.weightBytes)} of weights in memory</span> : null}
          <span>ready in {formatMs(state.ms)}</span>
          {state.rowCost !== undefined ? (
            <span data-testid={`${testId}-row-cost`} title="What one more row of a block step costs on this engine, in single-row steps (measured on a 2-core CPU). A draft only pays when it is kept more often than that, so drafts are sized by it.">
              a draft row costs {state.rowCost.toFixed(2)} steps
            </span>
          ) : null}
          <span data-testid={`${testId}-engine`} data-engine={state.engine} title={state.engineReason}>
            {state.engine === 'cpu' ? 'CPU engine (WebAssembly)' : `WebGPU${adapter.status === 'ready' ? ` · ${adapterName(adapter)}` : ''}`}
          </span>
          {state.cacheRepaired ? (
            <span className="model-line-note" data-testid={`${testId}-repaired`}>
              a stale cached file was downloaded again
            </span>
          ) : null}
          {state.engineNote ? (
            <p className="note model-line-problem" role="status" data-testid={`${testId}-engine-note`}>
              {state.engineNote}
            </p>
          ) : null}
          {state.offlineProblem ? (
            <p className="note model-line-problem" role="status" data-testid={`${testId}-offline-problem`}>
              {state.offlineProblem}
            </p>
          ) : null}
        </div>
      );
    case 'error':
      return (
        <div className="notice notice-compact" role="alert" data-testid={testId} data-state="error" data-error={state.errorName}>
          <h2>{ERROR_TITLE[state.errorName] ?? `Could not load ${state.modelId}`}</h2>
          <p>{ERROR_HINT[state.errorName] ?? 'Loading the model failed.'}</p>
          <details>
            <summary>Technical details</summary>
            <code>
              {state.errorName}: {state.message}
            </code>
          </details>
          {onRetry ? (
            <button type="button" onClick={onRetry} data-testid={`${testId}-retry`}>
              {state.errorName === ErrorNames.DeviceLost ? 'Reload the model' : 'Try again'}
            </button>
          ) : null}
        </div>
      );
  }
}
