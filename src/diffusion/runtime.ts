// Run-time plumbing shared by both samplers: cancellation checkpoints, the clock, stats, and what
// the sampler's helpers (syntax gate, infill candidates) share: token texts, the k best ids.

import type { Decisions } from '../engine/types';
import { RequestError } from './request';
import { CancelledError, type SampleStats, type SamplerHooks } from './types';

/**
 * Let queued tasks run (a worker's cancel message, say) before the next step: a step whose forward
 * resolves without a real task boundary (CPU backend, cached pass) would otherwise starve them.
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { scheduler?: { yield?: () => Promise<void> }; setImmediate?: (cb: () => void) => unknown };
  if (typeof g.scheduler?.yield === 'function') return g.scheduler.yield();
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Yield to the event loop, then check for cancellation: called once at the top of every step. */
export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  throwIfCancelled(signal);
  await yieldToEventLoop();
  throwIfCancelled(signal);
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The engine promised one decision per requested position and never the mask token; hold it to that. */
export function checkDecisions(d: Decisions, n: number, mask: number): void {
  for (const key of ['token', 'prob', 'margin', 'entropy', 'currentProb'] as const) {
    if (!d[key] || d[key].length !== n) throw new Error(`engine returned ${d[key]?.length ?? 'no'} ${key} values for ${n} positions`);
  }
  for (let i = 0; i < n; i++) if (d.token[i] === mask) throw new Error('engine chose the mask token');
}

/** Whether hooks.stop (SamplerKnobs.stopAt) reads the text of `ids`, the committed run so far, as over (never without decode). */
export function stopsHere(hooks: SamplerHooks, ids: ArrayLike<number>): boolean {
  return !!hooks.stop && !!hooks.decode && hooks.stop(hooks.decode(Array.from(ids)));
}

export function makeStats(c: { steps: number; forwards: number; skippedForwards: number; tokensGenerated: number; revisions: number; ms: number }): SampleStats {
  return {
    ...c,
    tokensPerSecond: c.ms > 0 ? (c.tokensGenerated * 1000) / c.ms : 0,
    tokensPerStep: c.steps > 0 ? c.tokensGenerated / c.steps : 0,
  };
}

export function requireKind(kind: string, expected: string): void {
  if (kind !== expected) throw new RequestError(`this sampler needs a ${expected} model, got kind "${kind}"`);
}

const PIECES = new WeakMap<(ids: number[]) => string, string[]>();

/** The text of token t alone, decoded once per decode function (kept across runs). */
export function pieceOf(decode: (ids: number[]) => string, t: number): string {
  let pieces = PIECES.get(decode);
  if (!pieces) PIECES.set(decode, (pieces = []));
  return (pieces[t] ??= decode([t]));
}

/** The k best ids of `logits` that pass `keep`, best first (one pass, insertion into k). */
export function topK(logits: Float32Array, k: number, keep: (t: number) => boolean): number[] {
  const best: number[] = [];
  for (let t = 0; t < logits.length; t++) {
    if (best.length === k && logits[t]! <= logits[best[k - 1]!]!) continue;
    if (!keep(t)) continue;
    let i = best.length;
    while (i > 0 && logits[best[i - 1]!]! < logits[t]!) i--;
    best.splice(i, 0, t);
    if (best.length > k) best.pop();
  }
  return best;
}
