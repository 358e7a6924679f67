// Settings drawer: model, new tokens, strategy and its knob, temperature, seed, revision,
// autocomplete. Every change applies at once and is saved (useSettings). Escape closes it.

import { useEffect, useId, useRef } from 'react';
import { Icon } from './Icon';
import { formatBytes } from './format';
import { formatParams, rank, type ModelEntry, type ModelsIndex } from './modelsIndex';
import { LIMITS, type Settings, type Strategy } from './settings';

export interface SettingsPanelProps {
  settings: Settings;
  onChange: (patch: Partial<Settings>) => void;
  onReset: () => void;
  onClose: () => void;
  index: ModelsIndex | null;
  /** Models in use now (URL parameters may override the settings). */
  activeModel: string | null;
  activeAr: string | null;
  urlOverrides: boolean;
  /** The loaded model's context length: caps new tokens. */
  maxSeqLen: number | null;
}

const STRATEGIES: { value: Strategy; label: string; hint: string }[] = [
  { value: 'model', label: 'Model default', hint: "the model's own decoding: a block-causal model writes blocks of its size against its KV cache, committing the run of tokens above τ from the left each step" },
  { value: 'fixed', label: 'Fixed steps', hint: 'the whole span at once, a fixed number of steps' },
  { value: 'blocks', label: 'Blocks', hint: 'left-to-right blocks, fixed steps each (semi-autoregressive)' },
  { value: 'threshold', label: 'Confidence threshold', hint: 'commit everything above τ each step: adaptive step count' },
  { value: 'entropy', label: 'Entropy budget', hint: 'the EB-sampler: in blocks, commit the surest positions while their summed entropy (less the largest) stays under γ: adaptive step count' },
];

/** "id · 2.6M · 2.8 MB download · 2.7 MB in memory": size, download and the weights' memory in the engine. */
function modelLabel(m: ModelEntry): string {
  return [m.id, formatParams(m.parameters), `${formatBytes(m.downloadBytes)} download`, ...(m.memoryBytes ? [`${formatBytes(m.memoryBytes)} in memory`] : [])].join(' · ');
}

export function SettingsPanel({ settings: s, onChange, onReset, onClose, index, activeModel, activeAr, urlOverrides, maxSeqLen }: SettingsPanelProps) {
  const id = useId();
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    panel.current?.querySelector<HTMLElement>('select, input, button')?.focus();
  }, []);
  const diffusionModels = index?.models.filter((m) => m.kind === 'diffusion') ?? [];
  const arModels = index?.models.filter((m) => m.kind === 'autoregressive') ?? [];
  const num = (v: string) => (v === '' ? NaN : Number(v));

  return (
    <div
      className="settings"
      role="dialog"
      aria-modal="false"
      aria-labelledby={`${id}-title`}
      data-testid="settings"
      ref={panel}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="settings-head">
        <h2 id={`${id}-title`}>Settings</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close settings">
          <Icon name="close" />
        </button>
      </header>

      <fieldset>
        <legend>Model</legend>
        <label className="field">
          <span>Diffusion model</span>
          <select value={s.modelId ?? ''} onChange={(e) => onChange({ modelId: e.target.value || null })} data-testid="settings-model">
            <option value="">Best available{diffusionModels[0] ? ` (${rank(diffusionModels, 'diffusion')[0]})` : ''}</option>
            {diffusionModels.map((m) => (
              <option key={m.id} value={m.id}>
                {modelLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Race against</span>
          <select value={s.arModelId ?? ''} onChange={(e) => onChange({ arModelId: e.target.value || null })}>
            <option value="">Its autoregressive twin</option>
            {arModels.map((m) => (
              <option key={m.id} value={m.id}>
                {modelLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Engine</span>
          <select value={s.engine} onChange={(e) => onChange({ engine: e.target.value as Settings['engine'] })} data-testid="settings-engine">
            <option value="auto">Automatic (WebGPU; CPU on software adapters)</option>
            <option value="webgpu">WebGPU</option>
            <option value="cpu">CPU (WebAssembly)</option>
          </select>
        </label>
        <p className="field-hint">
          In use: {activeModel ?? '–'} and {activeAr ?? 'no twin'}.
          {urlOverrides ? ' The page URL (?model= / ?ar= / ?engine=) overrides these choices.' : ''}
        </p>
      </fieldset>

      <fieldset>
        <legend>Decoding</legend>
        <label className="field">
          <span>New tokens</span>
          <input
            type="number"
            min={LIMITS.genLength.min}
            max={LIMITS.genLength.max}
            value={s.genLength}
            onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ genLength: Math.max(LIMITS.genLength.min, Math.min(LIMITS.genLength.max, Math.round(num(e.target.value)))) })}
            data-testid="settings-gen-length"
          />
        </label>
        {maxSeqLen !== null && s.genLength > maxSeqLen / 2 ? <p className="field-hint">The model sees {maxSeqLen} tokens in all: long runs leave little room for the prompt.</p> : null}
        <div className="field" role="radiogroup" aria-label="Strategy">
          <span>Strategy</span>
          <div className="segmented">
            {STRATEGIES.map((st) => (
              <label key={st.value} className={s.strategy === st.value ? 'is-on' : ''} title={st.hint}>
                <input type="radio" name={`${id}-strategy`} value={st.value} checked={s.strategy === st.value} onChange={() => onChange({ strategy: st.value })} />
                {st.label}
              </label>
            ))}
          </div>
        </div>
        <p className="field-hint">{STRATEGIES.find((x) => x.value === s.strategy)?.hint}</p>
        {s.strategy === 'threshold' || s.strategy === 'model' ? (
          <label className="field">
            <span>Threshold τ <output>{s.tau.toFixed(2)}</output></span>
            <input type="range" min={LIMITS.tau.min} max={LIMITS.tau.max} step={0.01} value={s.tau} onChange={(e) => onChange({ tau: num(e.target.value) })} />
          </label>
        ) : s.strategy === 'entropy' ? (
          <label className="field">
            <span>Entropy budget γ <output>{s.gamma.toFixed(2)} nats</output></span>
            <input type="range" min={LIMITS.gamma.min} max={LIMITS.gamma.max} step={0.01} value={s.gamma} onChange={(e) => onChange({ gamma: num(e.target.value) })} data-testid="settings-gamma" />
          </label>
        ) : (
          <label className="field">
            <span>Steps</span>
            <input
              type="number"
              min={LIMITS.steps.min}
              max={LIMITS.steps.max}
              value={s.steps}
              onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ steps: Math.max(1, Math.min(LIMITS.steps.max, Math.round(num(e.target.value)))) })}
              data-testid="settings-steps"
            />
          </label>
        )}
        {s.strategy === 'blocks' || s.strategy === 'threshold' || s.strategy === 'entropy' ? (
          <label className="field">
            <span>Block length</span>
            <input
              type="number"
              min={LIMITS.blockLength.min}
              max={LIMITS.blockLength.max}
              value={s.blockLength}
              onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ blockLength: Math.max(1, Math.min(LIMITS.blockLength.max, Math.round(num(e.target.value)))) })}
            />
          </label>
        ) : null}
        <label className="field">
          <span>Temperature <output>{s.temperature.toFixed(2)}</output></span>
          <input type="range" min={0} max={LIMITS.temperature.max} step={0.05} value={s.temperature} onChange={(e) => onChange({ temperature: num(e.target.value) })} data-testid="settings-temperature" />
        </label>
        <div className="field field-row">
          <label htmlFor={`${id}-seed`}>Seed</label>
          <input
            id={`${id}-seed`}
            type="number"
            min={0}
            max={LIMITS.seed.max}
            value={s.seed}
            onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ seed: Math.max(0, Math.min(LIMITS.seed.max, Math.round(num(e.target.value)))) })}
          />
          <button type="button" onClick={() => onChange({ seed: Math.floor(Math.random() * 100000) })}>
            New seed
          </button>
        </div>
        <label className="check">
          <input type="checkbox" checked={s.revision} onChange={(e) => onChange({ revision: e.target.checked })} data-testid="settings-revision" />
          <span>
            Revision <span className="field-hint">re-mask committed tokens the model later doubts</span>
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={s.syntaxCheck} onChange={(e) => onChange({ syntaxCheck: e.target.checked })} data-testid="settings-syntax" />
          <span>
            Syntax check <span className="field-hint">a token that breaks the Python syntax, or after which the text could not end cleanly in the tokens left (open strings, brackets, a block without a body), is replaced by the model's best one that keeps it (model default decoding, no revision; not in Race)</span>
          </span>
        </label>
        <label className="field">
          <span>
            Fill candidates <span className="field-hint">Fill selection also tries this many beams and the lines already in the file, scores each by how it reads in place with the code after it, and keeps the line the likeliest agree on (1: off; model default decoding)</span>
          </span>
          <input type="number" min={LIMITS.fillCandidates.min} max={LIMITS.fillCandidates.max} value={s.fillCandidates} onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ fillCandidates: Math.max(LIMITS.fillCandidates.min, Math.min(LIMITS.fillCandidates.max, Math.round(num(e.target.value)))) })} data-testid="settings-candidates" />
        </label>
      </fieldset>

      <fieldset>
        <legend>Tests</legend>
        <label className="check">
          <input type="checkbox" checked={s.runTests} onChange={(e) => onChange({ runTests: e.target.checked })} data-testid="settings-run-tests" />
          <span>
            Run the tests after generating <span className="field-hint">doctests and asserts, in Python in the browser (Pyodide, sandboxed, offline once loaded)</span>
          </span>
        </label>
        <label className="field">
          <span>Attempts of “generate until tests pass”</span>
          <input type="number" min={LIMITS.attempts.min} max={LIMITS.attempts.max} value={s.attempts} onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ attempts: Math.max(LIMITS.attempts.min, Math.min(LIMITS.attempts.max, Math.round(num(e.target.value)))) })} data-testid="settings-attempts" />
        </label>
        <label className="field">
          <span>Time budget of all attempts, s</span>
          <input type="number" min={LIMITS.attemptSeconds.min} max={LIMITS.attemptSeconds.max} value={s.attemptSeconds} onChange={(e) => Number.isFinite(num(e.target.value)) && onChange({ attemptSeconds: Math.max(LIMITS.attemptSeconds.min, Math.min(LIMITS.attemptSeconds.max, Math.round(num(e.target.value)))) })} />
        </label>
        <p className="field-hint">Attempts after the first sample (temperature 0.8 when it is 0) with the next seeds.</p>
      </fieldset>

      <fieldset>
        <legend>Editor</legend>
        <label className="check">
          <input type="checkbox" checked={s.autocomplete} onChange={(e) => onChange({ autocomplete: e.target.checked })} data-testid="settings-autocomplete" />
          <span>
            Complete at the cursor <span className="field-hint">ghost text after a pause in typing; Alt+\ asks at once</span>
          </span>
        </label>
      </fieldset>

      <footer className="settings-foot">
        <button type="button" onClick={onReset}>
          Reset to defaults
        </button>
        <span className="field-hint">Saved in this browser.</span>
      </footer>
    </div>
  );
}
