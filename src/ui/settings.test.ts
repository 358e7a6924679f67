import { describe, expect, it } from 'vitest';
import { resolveKnobs } from '../diffusion/request';
import { DEFAULT_SETTINGS, LIMITS, completionDelayFromUrl, fillKnobs, fitGenLength, knobsFor, loadSettings, sanitize, saveSettings, STORAGE_KEY, OLD_STORAGE_KEY, type Settings } from './settings';

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k), clear: () => m.clear(), key: () => null, length: 0 } as Storage;
}

describe('settings', () => {
  it('round-trips through storage; broken or missing values take the defaults', () => {
    const st = memoryStorage();
    expect(loadSettings(st)).toEqual(DEFAULT_SETTINGS);
    const s: Settings = { ...DEFAULT_SETTINGS, modelId: 'qs-code-diffusion-tiny', strategy: 'threshold', tau: 0.7, seed: 7, revision: true };
    saveSettings(st, s);
    expect(loadSettings(st)).toEqual(s);
    st.setItem(STORAGE_KEY, '{not json');
    expect(loadSettings(st)).toEqual(DEFAULT_SETTINGS);
    expect(sanitize({ engine: 'gpu9000' }).engine).toBe('auto');
    expect(sanitize({ engine: 'cpu' }).engine).toBe('cpu');
    expect(sanitize({ genLength: -3, steps: 'x', tau: 9, strategy: 'nope', modelId: '../x', temperature: NaN })).toMatchObject({
      genLength: 4,
      steps: DEFAULT_SETTINGS.steps,
      tau: 1,
      strategy: DEFAULT_SETTINGS.strategy,
      modelId: null,
      temperature: DEFAULT_SETTINGS.temperature,
    });
    expect(loadSettings(undefined)).toEqual(DEFAULT_SETTINGS);
  });

  it("settings saved before Fill's 4 beams: a stored 8 was the old default and becomes 4; a saved 8 since is a choice", () => {
    const st = memoryStorage();
    st.setItem(STORAGE_KEY, JSON.stringify({ ...DEFAULT_SETTINGS, fillCandidates: 8, seed: 3 }));
    expect(loadSettings(st)).toEqual({ ...DEFAULT_SETTINGS, fillCandidates: 4, seed: 3 });
    st.setItem(STORAGE_KEY, JSON.stringify({ ...DEFAULT_SETTINGS, fillCandidates: 16 }));
    expect(loadSettings(st).fillCandidates).toBe(16);
    saveSettings(st, { ...DEFAULT_SETTINGS, fillCandidates: 8 });
    expect(loadSettings(st).fillCandidates).toBe(8);
  });

  it('v1 settings keep the user choices but take the new decoding defaults', () => {
    const st = memoryStorage();
    st.setItem(OLD_STORAGE_KEY, JSON.stringify({ ...DEFAULT_SETTINGS, strategy: 'blocks', blockLength: 32, steps: 32, seed: 9, engine: 'cpu', autocomplete: false, modelId: 'qs-code-diffusion-base' }));
    expect(loadSettings(st)).toEqual({ ...DEFAULT_SETTINGS, seed: 9, engine: 'cpu', autocomplete: false });
    expect(DEFAULT_SETTINGS.strategy).toBe('model');
    // the model strategy leaves block length and commit order to the model
    const k = knobsFor(DEFAULT_SETTINGS);
    expect(k.blockLength).toBeUndefined();
    expect(resolveKnobs(k, { attention: 'block_causal', block_size: 8 })).toMatchObject({ blockLength: 8, commitOrder: 'verify', schedule: { kind: 'threshold', tau: DEFAULT_SETTINGS.tau } });
  });

  it('every strategy gives knobs the sampler accepts', () => {
    for (const strategy of ['model', 'fixed', 'blocks', 'threshold', 'entropy'] as const) {
      for (const revision of [false, true]) {
        for (const [genLength, steps, blockLength] of [[64, 32, 16], [8, 1, 3], [5, 1000, 512]]) {
          const knobs = knobsFor({ ...DEFAULT_SETTINGS, strategy, revision, genLength: genLength!, steps: steps!, blockLength: blockLength! });
          expect(() => resolveKnobs(knobs)).not.toThrow();
          expect(knobs.truncate).toBe(true);
        }
      }
    }
    expect(knobsFor({ ...DEFAULT_SETTINGS, strategy: 'fixed' }).blockLength).toBe(DEFAULT_SETTINGS.genLength);
    expect(knobsFor({ ...DEFAULT_SETTINGS, strategy: 'threshold', tau: 0.8 }).schedule).toMatchObject({ kind: 'threshold', tau: 0.8 });
    expect(resolveKnobs(knobsFor({ ...DEFAULT_SETTINGS, strategy: 'entropy', gamma: 1.5 }))).toMatchObject({ schedule: { kind: 'entropyBound', gamma: 1.5 }, confidence: 'entropy', blockLength: DEFAULT_SETTINGS.blockLength });
    // the strategies other than the model's default are the diffusion schedules they name, on a block-causal model too
    for (const strategy of ['fixed', 'blocks', 'threshold', 'entropy'] as const) {
      expect(resolveKnobs(knobsFor({ ...DEFAULT_SETTINGS, strategy }), { attention: 'block_causal', block_size: 8 }).commitOrder, strategy).toBe('confidence');
    }
    expect(sanitize({ strategy: 'entropy', gamma: 99 })).toMatchObject({ strategy: 'entropy', gamma: LIMITS.gamma.max });
  });

  it('fits the new tokens into the model context', () => {
    expect(fitGenLength(64, 128)).toBe(64);
    expect(fitGenLength(200, 128)).toBe(96);
    expect(fitGenLength(64, 512)).toBe(64);
  });

  it('Fill ranks candidates with the model default decoding of a block-causal model only', () => {
    const k = knobsFor(DEFAULT_SETTINGS, 24);
    expect(fillKnobs(k, DEFAULT_SETTINGS, true).candidates).toBe(DEFAULT_SETTINGS.fillCandidates);
    expect(DEFAULT_SETTINGS.fillCandidates).toBeGreaterThan(1);
    expect(fillKnobs(k, DEFAULT_SETTINGS, false).candidates).toBeUndefined();
    expect(fillKnobs(k, { ...DEFAULT_SETTINGS, revision: true }, true).candidates).toBeUndefined();
    expect(fillKnobs(k, { ...DEFAULT_SETTINGS, strategy: 'threshold' }, true).candidates).toBeUndefined();
    expect(fillKnobs(k, { ...DEFAULT_SETTINGS, fillCandidates: 1 }, true).candidates).toBeUndefined();
    // stored values are clamped to 1..32
    expect(sanitize({ ...DEFAULT_SETTINGS, fillCandidates: 99 }).fillCandidates).toBe(32);
    expect(sanitize({ ...DEFAULT_SETTINGS, fillCandidates: 'x' as unknown as number }).fillCandidates).toBe(DEFAULT_SETTINGS.fillCandidates);
  });
});

describe('completionDelayFromUrl', () => {
  it('reads ?completionDelay= as whole milliseconds in 0..2000, and ignores anything else', () => {
    expect(completionDelayFromUrl('?completionDelay=450')).toBe(450);
    expect(completionDelayFromUrl('?mode=race&completionDelay=0')).toBe(0);
    for (const bad of ['', '?completionDelay=', '?completionDelay=-5', '?completionDelay=2001', '?completionDelay=1e3', '?completionDelay=fast', '?completionDelay=12.5']) {
      expect(completionDelayFromUrl(bad), bad).toBeUndefined();
    }
  });
});
