// Bottom bar: adapter, model (with the engine that runs it) and offline state at a glance.

import { formatBytes } from './format';
import { formatParams } from './modelsIndex';
import { applyUpdate } from './useOffline';
import type { AdapterState, ModelState, OfflineState } from './state';

export interface StatusBarProps {
  adapter: AdapterState;
  model: ModelState;
  offline: OfflineState;
}

export function StatusBar({ adapter, model, offline }: StatusBarProps) {
  return (
    <footer className="status-bar" role="status">
      <AdapterItem adapter={adapter} />
      <ModelItem model={model} />
      <span className="status-spacer" />
      {offline.updateReady ? (
        <span className="status-item status-update" data-testid="update-prompt">
          A new version of Quicksilver is ready (your text is kept).
          <button type="button" onClick={applyUpdate} data-testid="update-reload">
            Reload to update
          </button>
        </span>
      ) : null}
      <span className="status-item" data-testid="status-offline">
        <Dot tone={offline.online ? 'ok' : 'warn'} />
        {offline.online ? 'online' : 'offline'}
        {offline.offlineReady ? ' · works offline' : ''}
      </span>
    </footer>
  );
}

function AdapterItem({ adapter }: { adapter: AdapterState }) {
  switch (adapter.status) {
    case 'probing':
      return (
        <span className="status-item" data-testid="status-adapter" data-state="probing">
          <Dot tone="busy" />
          WebGPU: probing…
        </span>
      );
    case 'unavailable':
      return (
        <span
          className="status-item"
          data-testid="status-adapter"
          data-state="unavailable"
          title={adapter.message}
        >
          <Dot tone="error" />
          WebGPU unavailable
        </span>
      );
    case 'ready': {
      const a = adapter.adapter;
      const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || 'unknown';
      const title = [
        a.description,
        `features: ${a.features.join(', ') || 'none'}`,
        `maxStorageBufferBindingSize: ${a.limits.maxStorageBufferBindingSize ?? '?'}`,
        `crossOriginIsolated: ${adapter.crossOriginIsolated}`,
      ].join('\n');
      return (
        <span className="status-item" data-testid="status-adapter" data-state="ready" title={title}>
          <Dot tone="ok" />
          WebGPU: {name}
          {a.isFallbackAdapter ? <span className="status-tag">software</span> : null}
        </span>
      );
    }
  }
}

function ModelItem({ model }: { model: ModelState }) {
  let text: string;
  let tone: DotTone;
  let title = '';
  switch (model.status) {
    case 'none':
      text = 'no model loaded';
      tone = 'idle';
      break;
    case 'loading':
      text = `loading ${model.modelId} ${Math.round(model.fraction * 100)}%`;
      tone = 'busy';
      break;
    case 'ready':
      text = `${model.modelId} · ${formatParams(model.parameterCount)} params${model.fromCache ? ' · from offline cache' : model.offlineCached ? ' · cached for offline' : ''}`;
      title = `${model.fromCache ? 'weights came from the offline cache' : `weights downloaded (${formatBytes(model.downloadBytes)})`}; ${model.engine === 'cpu' ? 'CPU engine (WebAssembly)' : 'WebGPU'}: ${model.engineReason}`;
      tone = 'ok';
      break;
    case 'error':
      text = `${model.modelId}: ${model.errorName === 'DeviceLostError' ? 'GPU device lost' : 'failed to load'}`;
      title = model.message;
      tone = 'error';
      break;
  }
  return (
    <span
      className="status-item"
      data-testid="status-model"
      data-state={model.status}
      data-offline-cached={model.status === 'ready' ? model.offlineCached : undefined}
      title={title || undefined}
    >
      <Dot tone={tone} />
      Model: {text}
      {model.status === 'ready' ? (
        <span className="status-tag" data-testid="status-engine" data-engine={model.engine}>
          {model.engine === 'cpu' ? 'CPU engine' : 'WebGPU engine'}
        </span>
      ) : null}
    </span>
  );
}

type DotTone = 'ok' | 'warn' | 'error' | 'busy' | 'idle';

function Dot({ tone }: { tone: DotTone }) {
  return <span className={`dot dot-${tone}`} aria-hidden="true" />;
}
