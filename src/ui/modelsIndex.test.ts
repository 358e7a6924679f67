import { describe, expect, it } from 'vitest';
import { chooseModels, fetchModelsIndex, formatParams, twinOf, type ModelsIndex } from './modelsIndex';

const INDEX: ModelsIndex = {
  format: 1,
  models: [
    { id: 'qs-code-ar-tiny', kind: 'autoregressive', parameters: 3e5, downloadBytes: 8e5 },
    { id: 'qs-code-diffusion-tiny', kind: 'diffusion', parameters: 3e5, downloadBytes: 8e5 },
    { id: 'qs-code-diffusion-small', kind: 'diffusion', parameters: 5e6, downloadBytes: 1e7 },
    { id: 'qs-code-ar-small', kind: 'autoregressive', parameters: 5e6, downloadBytes: 1e7 },
  ],
};

describe('model choice', () => {
  it('defaults to the biggest shipped diffusion model and its twin', () => {
    expect(chooseModels(INDEX, {})).toEqual({ diffusion: ['qs-code-diffusion-small', 'qs-code-diffusion-tiny'], ar: 'qs-code-ar-small' });
  });

  it('an int8 export whose quality holds is the default at its size (its twin too); one not evaluated, or failing, is not', () => {
    const f = (id: string, kind: 'diffusion' | 'autoregressive') => ({ id, kind, parameters: 2.6e6, downloadBytes: 5.2e6 });
    const q = (id: string, kind: 'diffusion' | 'autoregressive', qualityHolds: boolean | null) => ({ id: `${id}-int8`, kind, parameters: 2.6e6, downloadBytes: 2.8e6, quantized: { from: id, qualityHolds } });
    const index = (holds: boolean | null): ModelsIndex => ({
      format: 1,
      models: [f('qs-diffusion-x', 'diffusion'), q('qs-diffusion-x', 'diffusion', holds), f('qs-ar-x', 'autoregressive'), q('qs-ar-x', 'autoregressive', holds), ...INDEX.models.slice(0, 2)],
    });
    expect(chooseModels(index(true), {})).toEqual({ diffusion: ['qs-diffusion-x-int8', 'qs-diffusion-x', 'qs-code-diffusion-tiny'], ar: 'qs-ar-x-int8' });
    expect(chooseModels(index(null), {}).diffusion[0]).toBe('qs-diffusion-x');
    expect(chooseModels(index(false), {}).diffusion[0]).toBe('qs-diffusion-x');
    // the float model stays selectable
    expect(chooseModels(index(true), { settingsModel: 'qs-diffusion-x' })).toEqual({ diffusion: ['qs-diffusion-x', 'qs-diffusion-x-int8', 'qs-code-diffusion-tiny'], ar: 'qs-ar-x' });
  });

  it('URL beats settings; the shipped ones stay as fallbacks', () => {
    const c = chooseModels(INDEX, { urlModel: 'qs-code-diffusion-tiny', settingsModel: 'qs-code-diffusion-small', urlAr: 'qs-code-ar-tiny' });
    expect(c.diffusion).toEqual(['qs-code-diffusion-tiny', 'qs-code-diffusion-small']);
    expect(c.ar).toBe('qs-code-ar-tiny');
    expect(chooseModels(INDEX, { settingsModel: 'qs-code-diffusion-tiny' }).ar).toBe('qs-code-ar-tiny');
  });

  it('a wish the index does not list is still tried first (the index may be stale), then the shipped ones', () => {
    const c = chooseModels(INDEX, { urlModel: 'qs-new' });
    expect(c.diffusion).toEqual(['qs-new', 'qs-code-diffusion-small', 'qs-code-diffusion-tiny']);
  });

  it('without an index: the wish, then the known names', () => {
    const c = chooseModels(null, { urlModel: 'qs-x-diffusion-9m' });
    expect(c.diffusion).toEqual(['qs-x-diffusion-9m', 'qs-code-diffusion-base-v3-int8', 'qs-code-diffusion-small-v3', 'qs-code-diffusion-tiny']);
    expect(c.ar).toBe('qs-x-ar-9m');
  });

  it('twin: by name, else the AR model of the closest size, else none', () => {
    expect(twinOf('qs-code-diffusion-tiny', INDEX)).toBe('qs-code-ar-tiny');
    expect(twinOf('other-diff', { format: 1, models: [...INDEX.models, { id: 'other-diff', kind: 'diffusion', parameters: 4e6, downloadBytes: 1 }] })).toBe('qs-code-ar-small');
    expect(twinOf('qs-code-diffusion-tiny', { format: 1, models: INDEX.models.filter((m) => m.kind === 'diffusion') })).toBeNull();
  });

  it('reads index.json and survives a missing one or an HTML fallback page', async () => {
    const ok = (async () => new Response(JSON.stringify(INDEX), { headers: { 'content-type': 'application/json' } })) as typeof fetch;
    expect(await fetchModelsIndex(ok)).toEqual(INDEX);
    expect(await fetchModelsIndex((async () => new Response('', { status: 404 })) as typeof fetch)).toBeNull();
    expect(await fetchModelsIndex((async () => new Response('<html>', { headers: { 'content-type': 'text/html' } })) as typeof fetch)).toBeNull();
    expect(await fetchModelsIndex((async () => { throw new TypeError('offline'); }) as typeof fetch)).toBeNull();
  });

  it('formats sizes', () => {
    expect(formatParams(362816)).toBe('0.36M');
    expect(formatParams(5_100_000)).toBe('5.1M');
    expect(formatParams(25_000_000)).toBe('25M');
  });
});
