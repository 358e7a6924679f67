// Engine selection in the worker's loadModel (src/worker/models.ts ModelRegistry with the CPU
// loader wired in, as src/worker/worker.ts does): 'auto' picks the CPU engine on a fallback adapter
// or without WebGPU, 'webgpu'/'cpu' override, the response says which and why, and device loss
// leaves CPU models loaded. Uses the shipped tiny model through a fake fetch.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SamplerHost } from '../../diffusion/host';
import type { LoadModelEvent } from '../../protocol';
import { ModelRegistry } from '../../worker/models';
import { loadModel, sha256Hex } from '../load';
import { testDevice } from '../testkit';
import type { GpuProbe } from './choose';
import { loadCpuModel } from './index';

const ID = 'qs-code-diffusion-tiny';
const DIR = resolve(__dirname, '../../../public/models', ID);
const FILES = ['manifest.json', 'config.json', 'model.safetensors', 'tokenizer.json'];
const present = FILES.every((f) => existsSync(join(DIR, f)));

function fakeFetch(): typeof fetch {
  const files = Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(DIR, f)))]));
  return (async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    const body = files[url.slice(url.lastIndexOf('/') + 1)];
    if (!url.startsWith(`/models/${ID}/`) || !body) return new Response('not found', { status: 404 });
    return new Response(body.slice(), { status: 200, headers: { 'content-length': String(body.byteLength) } });
  }) as typeof fetch;
}

function registry(probe: GpuProbe, host = new SamplerHost(), calls = { gpu: 0, cpu: 0 }) {
  return new ModelRegistry({
    fetch: fakeFetch(),
    device: async () => {
      calls.gpu++;
      return testDevice();
    },
    load: loadModel,
    loadCpu: (source, onProgress, options) => {
      calls.cpu++;
      return loadCpuModel(source, onProgress, { ...options, threads: 2 });
    },
    probe: async () => probe,
    host,
    sha256: sha256Hex,
    progressIntervalMs: 0,
  });
}

describe.skipIf(!present)('worker loadModel: engine selection', () => {
  it("auto on a fallback adapter loads the CPU engine, says why, and generates", async () => {
    const host = new SamplerHost();
    const calls = { gpu: 0, cpu: 0 };
    const reg = registry({ ok: true, isFallbackAdapter: true, description: 'swiftshader' }, host, calls);
    const events: LoadModelEvent[] = [];
    const res = await reg.load({ modelId: ID }, (e) => events.push(e));
    expect(res).toMatchObject({ modelId: ID, engine: 'cpu', engineReason: 'auto: the WebGPU adapter is a software fallback (swiftshader)', matmulVariant: 'wasm-simd128 2x16, 2 threads' });
    expect(calls).toEqual({ gpu: 0, cpu: 1 });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['download', 'verify', 'upload']));
    const out = await host.generate({ requestId: 'r', modelId: ID, prompt: 'def add(a, b):\n', genLength: 8, schedule: { kind: 'fixed', steps: 4 } });
    expect(out.stats.forwards).toBeGreaterThan(0);
    // device loss unloads WebGPU models only
    expect(reg.deviceLost()).toEqual([]);
    expect(reg.loadedIds()).toEqual([ID]);
    reg.unload(ID);
  });

  it('auto without WebGPU picks the CPU; auto on a hardware adapter and a forced webgpu pick WebGPU; forced cpu wins', async () => {
    const none = await registry({ ok: false, reason: 'no-adapter', message: 'none' }).load({ modelId: ID });
    expect([none.engine, none.engineReason]).toEqual(['cpu', 'auto: no WebGPU (no-adapter: none)']);

    const calls = { gpu: 0, cpu: 0 };
    const hw = registry({ ok: true, isFallbackAdapter: false }, new SamplerHost(), calls);
    const r1 = await hw.load({ modelId: ID, engine: 'cpu' });
    expect([r1.engine, r1.engineReason, calls.cpu, calls.gpu]).toEqual(['cpu', 'cpu: requested', 1, 0]);
    hw.unload(ID);
    const r2 = await hw.load({ modelId: ID });
    expect([r2.engine, calls.gpu]).toEqual(['webgpu', 1]);
    expect(r2.engineReason).toMatch(/^auto: hardware WebGPU/);
    hw.unload(ID);

    const fb = registry({ ok: true, isFallbackAdapter: true });
    const r3 = await fb.load({ modelId: ID, engine: 'webgpu' });
    expect([r3.engine, r3.engineReason]).toEqual(['webgpu', 'webgpu: requested']);
    expect(fb.deviceLost()).toEqual([ID]);
  }, 120_000);

  it('an unknown engine name is a RequestError', async () => {
    const err = await registry({ ok: false, reason: 'no-navigator-gpu' }).load({ modelId: ID, engine: 'tpu' as never }).catch((e: Error) => e);
    expect((err as Error).name).toBe('RequestError');
  });
});
