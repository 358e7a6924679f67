// createQuicksilver() against a worker API served over a real MessageChannel by comlink (as in
// the browser), with the real SamplerHost on a fake model: step updates arrive before the run
// settles, text with masks, cancellation before and during a run, model URLs, named errors.

import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiffusionModel } from '../diffusion/fakes';
import { SamplerHost, type TextCodec } from '../diffusion/host';
import { isCancelled } from '../diffusion/types';
import type { LoadModelRequest, QuicksilverWorkerApi, WorkerConfig } from '../protocol';
import { createQuicksilver, type Quicksilver, type StepUpdate } from './client';

/** One token per character: 'a' = 1 ... 'z' = 26; specials render as ''. */
const codec: TextCodec = {
  encode: (s) => Array.from(s, (c) => c.charCodeAt(0) - 96),
  decode: (ids) => ids.filter((t) => t >= 1 && t <= 26).map((t) => String.fromCharCode(96 + t)).join(''),
};

interface Served {
  client: Quicksilver;
  loads: LoadModelRequest[];
  configs: WorkerConfig[];
  close(): void;
}

function serve(): Served {
  const host = new SamplerHost();
  host.setModel(new FakeDiffusionModel(), codec, 'fake');
  const loads: LoadModelRequest[] = [];
  const configs: WorkerConfig[] = [];
  const api: Partial<QuicksilverWorkerApi> = {
    async configure(c) {
      configs.push(c);
    },
    async loadModel(req) {
      loads.push(req);
      if (req.modelId !== 'fake') throw Object.assign(new Error(`no model "${req.modelId}"`), { name: 'ModelNotFoundError' });
      return { modelId: 'fake' } as never;
    },
    generate: (req, onEvent) => host.generate(req, onEvent),
    infill: (req, onEvent) => host.infill(req, onEvent),
    async cancel({ requestId }) {
      host.cancel(requestId);
    },
  };
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(api, port1);
  const client = createQuicksilver({ model: 'fake', baseUrl: 'http://example.test/m/', worker: port2 as unknown as Worker });
  return {
    client,
    loads,
    configs,
    close() {
      client.terminate();
      port1.close();
      port2.close();
    },
  };
}

let served: Served | null = null;
afterEach(() => {
  served?.close();
  served = null;
});

describe('createQuicksilver', () => {
  it('streams the span as text with masks, and settles only after the last step update', async () => {
    served = serve();
    const updates: StepUpdate[] = [];
    const r = await served.client.infill('ab', 'cd', { genLength: 6, schedule: { kind: 'fixed', steps: 3 }, onStep: (u) => updates.push(u) });
    // Every step is in when the promise settles (they travel on their own port).
    expect(updates).toHaveLength(r.stats.steps + 1);
    expect(updates[0]).toMatchObject({ step: null, masked: 6, length: 6, text: '\u2591'.repeat(6) });
    expect(updates.slice(1).map((u) => u.step!.step)).toEqual([0, 1, 2]);
    const masked = updates.map((u) => u.masked);
    expect(masked.at(-1)).toBe(0);
    expect(masked).toEqual([...masked].sort((a, b) => b - a));
    expect(updates.at(-1)!.text).toBe(r.text);
    expect(new Set(updates.map((u) => u.requestId))).toEqual(new Set([r.requestId]));
  });

  it('sends the cache setting first and resolves model URLs under baseUrl; errors keep their names', async () => {
    served = serve();
    await served.client.load();
    expect(served.configs).toEqual([{ modelCache: 'quicksilver-models' }]);
    expect(served.loads[0]).toMatchObject({ modelId: 'fake', baseUrl: 'http://example.test/m/fake/', engine: 'auto' });
    await served.client.load({ model: 'other', url: 'http://cdn.test/x', engine: 'cpu' }).catch(() => {});
    expect(served.loads[1]).toMatchObject({ modelId: 'other', baseUrl: 'http://cdn.test/x/', engine: 'cpu' });
    await expect(served.client.load({ model: 'other' })).rejects.toMatchObject({ name: 'ModelNotFoundError' });
  });

  it('cancel() before the run was sent, and an aborted signal during it, reject with CancelledError', async () => {
    served = serve();
    const early = served.client.generate('abc', { genLength: 8, requestId: 'early' });
    served.client.cancel('early');
    const e1 = await early.catch((e: unknown) => e);
    expect(isCancelled(e1)).toBe(true);

    const controller = new AbortController();
    let steps = 0;
    const during = served.client.generate('abc', {
      genLength: 24,
      schedule: { kind: 'fixed', steps: 24 },
      signal: controller.signal,
      onStep: (u) => {
        if (u.step && ++steps === 2) controller.abort();
      },
    });
    const e2 = await during.catch((e: unknown) => e);
    expect(isCancelled(e2)).toBe(true);
    expect(steps).toBeLessThan(24);

    // The client still works afterwards.
    const r = await served.client.generate('abc', { genLength: 4 });
    expect(r.stats.steps).toBeGreaterThan(0);
  });
});
