// The autoregressive twin: the same request, step events and result as the diffusion sampler, from
// a causal model with a KV cache. One token per step, left to right: prefill the prompt, then feed
// each chosen token back through decodeStep. Greedy at temperature 0, else the engine's Gumbel-max
// draw from (seed, step). Stops at the first eos/pad (the rest of the span becomes pad, as in
// diffusion), where hooks.stop says the text is over, or after genLength tokens. Diffusion-only knobs (schedule, blocks, revision,
// reuseForward, previews) are ignored, so one request can drive both models side by side.

import type { AutoregressiveModel } from '../engine/types';
import { layoutGenerate, resolveConfidence, resolveSampling } from './request';
import { checkDecisions, checkpoint, makeStats, now, requireKind, stopsHere, throwIfCancelled } from './runtime';
import { confidenceOf } from './schedule';
import type { GenerateRequest, SampleResult, SamplerHooks, TokenChange } from './types';

/** Generate up to `genLength` tokens after `prompt` with an autoregressive model. */
export async function generateAutoregressive(model: AutoregressiveModel, request: GenerateRequest, hooks: SamplerHooks = {}): Promise<SampleResult> {
  requireKind(model.config.kind, 'autoregressive');
  const { temperature, seed } = resolveSampling(request);
  const measure = resolveConfidence(request);
  const layout = layoutGenerate(request, model.config);
  const { mask, pad, eos } = model.config.special_tokens;
  const { spanStart, spanEnd } = layout;
  const { signal } = hooks;
  const started = now();
  throwIfCancelled(signal);
  hooks.onStart?.({ ...layout, tokens: layout.tokens.slice() });

  const canvas = layout.tokens.slice();
  const generated: number[] = [];
  let finishReason: SampleResult['finishReason'] = 'length';
  let forwards = 0;
  let step = 0;
  for (let p = spanStart; p < spanEnd; p++, step++) {
    await checkpoint(signal);
    const opts = { temperature, seed, step };
    const d = p === spanStart ? await model.prefill(Int32Array.from(canvas.slice(0, spanStart)), opts) : await model.decodeStep(canvas[p - 1], opts);
    forwards++;
    throwIfCancelled(signal);
    checkDecisions(d, 1, mask);
    const token = d.token[0];
    canvas[p] = token;
    const changes: TokenChange[] = [{ position: p, token, confidence: confidenceOf(d, 0, measure), state: 'committed' }];
    let ended = token === eos || token === pad;
    if (!ended) {
      generated.push(token);
      // hooks.stop (SamplerKnobs.stopAt): the text is over, the rest of the span is pad
      if (p + 1 < spanEnd && stopsHere(hooks, generated)) {
        ended = true;
        finishReason = 'stop';
      }
    } else finishReason = 'eos';
    if (ended) {
      for (let q = p + 1; q < spanEnd; q++) {
        canvas[q] = pad;
        changes.push({ position: q, token: pad, confidence: 1, state: 'committed' });
      }
    }
    hooks.onStep?.({ step, block: 0, changes, forwardSkipped: false, maskedLeft: ended ? 0 : spanEnd - p - 1 });
    if (ended) {
      step++;
      break;
    }
  }

  const ms = now() - started;
  return {
    tokens: canvas,
    generated,
    text: hooks.decode ? hooks.decode(generated) : undefined,
    finishReason,
    layout: { spanStart, spanEnd, droppedPrefix: layout.droppedPrefix, droppedSuffix: layout.droppedSuffix },
    stats: makeStats({ steps: step, forwards, skippedForwards: 0, tokensGenerated: generated.length, revisions: 0, ms }),
  };
}
