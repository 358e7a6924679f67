// Starting a generation through the library client and recording it (RunRecord) as its events
// stream in. Updates reach React at most once per animation frame, however fast steps arrive.

import { isCancelled } from '../diffusion/types';
import type { GenerationEvent, GenerationResult, SamplerKnobs } from '../protocol';
import { modelManager } from './modelManager';
import { RunRecord, type Specials } from './runRecord';
import { workerClient } from './workerClient';

export type RunSpec = {
  modelId: string;
  specials: Specials;
  knobs: SamplerKnobs;
  /** Label for the finished-run log (test hook): 'generate', 'race-diffusion', 'fill', ... */
  label: string;
} & ({ kind: 'generate'; prompt: string } | { kind: 'infill'; prefix: string; suffix: string });

export interface RunHandle {
  /** The run's record; a new one when the run was started again (after a GPU device loss). */
  readonly record: RunRecord;
  /** Said to the user about this run (it was restarted on the CPU engine), or null. */
  readonly notice: string | null;
  /** The result, or null when cancelled or failed (see record.status / record.error). */
  readonly done: Promise<GenerationResult | null>;
  cancel(): void;
}

/** Summary of finished runs, newest last (read by e2e tests through window.__qs). */
export interface RunSummary {
  label: string;
  requestId: string;
  modelId: string;
  modelKind: string;
  status: string;
  steps: number;
  recordedSteps: number;
  forwards: number;
  tokensGenerated: number;
  tokensPerSecond: number;
  /** A ranked fill's candidates: how many, and the forward passes ranking them took (of `forwards`). */
  candidates: { ranked: number; forwards: number } | null;
  text: string;
  error: string | null;
  /** This run was started again after a GPU device loss. */
  restarted: boolean;
}

export const finishedRuns: RunSummary[] = [];

let counter = 0;

export function startRun(spec: RunSpec, onUpdate: () => void): RunHandle {
  // A run whose GPU device is lost restarts once, from the beginning, on the model reloaded on
  // the CPU engine (modelManager): same prompt, knobs and seed, so the same text comes out.
  const manager = modelManager();
  const losses = manager.lossCount;
  let current = attempt(spec, onUpdate, null);
  let stopped = false;
  const done = current.done.then(async (result) => {
    if (result || stopped || current.record.status !== 'error') return log(spec, current, result, onUpdate);
    const model = await manager.recoverAfterLoss(spec.modelId, losses);
    if (!model || stopped) return log(spec, current, result, onUpdate);
    current = attempt({ ...spec, specials: model.specials }, onUpdate, `The GPU was lost during this run: it was started again on the ${model.engine === 'cpu' ? 'CPU engine' : 'GPU'}.`);
    onUpdate();
    return log(spec, current, await current.done, onUpdate);
  });
  return {
    get record() {
      return current.record;
    },
    get notice() {
      return current.notice;
    },
    done,
    cancel: () => {
      stopped = true;
      current.cancel();
    },
  };
}

interface Attempt {
  record: RunRecord;
  requestId: string;
  notice: string | null;
  done: Promise<GenerationResult | null>;
  cancel(): void;
}

function attempt(spec: RunSpec, onUpdate: () => void, notice: string | null): Attempt {
  const requestId = `${spec.label}-${++counter}-${Date.now().toString(36)}`;
  const steps = spec.knobs.schedule?.kind === 'fixed' && spec.knobs.schedule.steps !== undefined ? spec.knobs.schedule.steps : null;
  const record = new RunRecord(requestId, spec.kind, spec.modelId, spec.specials, steps);
  let frame = 0;
  const update = () => {
    if (frame) return;
    const tick = () => {
      frame = 0;
      onUpdate();
    };
    frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(tick) : (setTimeout(tick, 16) as unknown as number);
  };
  // The client resolves a run only after all of its step events were delivered (src/lib/client.ts).
  const onEvent = (e: GenerationEvent) => {
    record.onEvent(e, performance.now());
    update();
  };
  const client = workerClient();
  const options = { ...spec.knobs, requestId, model: spec.modelId, onEvent };
  const call = spec.kind === 'generate' ? client.generate(spec.prompt, options) : client.infill(spec.prefix, spec.suffix, options);
  const done = call.then(
    (result) => {
      record.finish(result);
      return result;
    },
    (err: unknown) => {
      record.fail(err, isCancelled(err));
      return null;
    },
  );
  return { record, requestId, notice, done, cancel: () => client.cancel(requestId) };
}

/** Record a finished run in the log the test hook reads, and tell the owner. */
function log(spec: RunSpec, a: Attempt, result: GenerationResult | null, onUpdate: () => void): GenerationResult | null {
  const record = a.record;
  finishedRuns.push({
    label: spec.label,
    requestId: a.requestId,
    modelId: spec.modelId,
    modelKind: result?.modelKind ?? '',
    status: record.status,
    steps: result?.stats.steps ?? record.stepCount,
    recordedSteps: record.stepCount,
    forwards: result?.stats.forwards ?? 0,
    tokensGenerated: result?.stats.tokensGenerated ?? 0,
    tokensPerSecond: result?.stats.tokensPerSecond ?? 0,
    candidates: result?.stats.candidates ? { ranked: result.stats.candidates.ranked, forwards: result.stats.candidates.forwards } : null,
    text: result?.text ?? '',
    error: record.error,
    restarted: a.notice !== null,
  });
  if (finishedRuns.length > 50) finishedRuns.shift();
  onUpdate();
  return result;
}
