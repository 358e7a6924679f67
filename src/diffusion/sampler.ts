// The denoising loop: reverse masked diffusion, LLaDA/MDLM style, with ReMDM-style revision.
//
//   canvas = fixed tokens + N masks (layoutGenerate / layoutInfill)
//   for each block, left to right:
//     repeat until the block is done:
//       one forward pass (or reuse the last one if the canvas has not changed); a block-causal
//         model runs only the block against its KV cache of the committed text (the suffix
//         first for infill), plus the rows committed since the last pass; a full-attention model
//         with dualCache runs the whole canvas once per block, then only the block's rows against
//         the keys and values of that pass (approximate)
//       commit masked positions of the block: the most confident anywhere (commitOrder
//         'confidence'), or the run of confident ones from the block's first mask ('leftToRight');
//         fixed k, or all >= tau, or (entropyBound) the longest run whose summed entropy less
//         its largest is <= gamma; eos/pad only at the first masked position)
//       re-mask committed tokens whose current probability < rho  (revision, budgeted)
//       after the first committed eos/pad, the rest of the span becomes pad; so it does after the
//         committed run from the span's start once hooks.stop (SamplerKnobs.stopAt) says it is over
//       stream the changes
//
// The model only ever returns a few numbers per requested position (Decisions); the sampler never
// sees logits. Requested positions are the current block's masked positions plus, with revision,
// its committed tokens (for their current probability).

import type { Decisions, DiffusionModel } from '../engine/types';
import { isBlockCausal, layoutGenerate, layoutInfill, RequestError, resolveKnobs, type ResolvedKnobs } from './request';
import { checkDecisions, checkpoint, makeStats, now, requireKind, stopsHere, throwIfCancelled } from './runtime';
import { byConfidenceDesc, confidenceOf, numTransferTokens, splitBlocks } from './schedule';
import { rankFills } from './candidates';
import { SyntaxGate, type SyntaxRejection } from './syntaxGate';
import type { CanvasLayout, GenerateRequest, InfillRequest, SampleResult, SamplerHooks, StepEvent, TokenChange } from './types';

/** Generate `genLength` tokens after `prompt` with a diffusion model. */
export async function generate(model: DiffusionModel, request: GenerateRequest, hooks: SamplerHooks = {}): Promise<SampleResult> {
  requireKind(model.config.kind, 'diffusion');
  const knobs = resolveKnobs(request, model.config);
  return denoise(model, layoutGenerate(request, model.config), knobs, hooks);
}

/**
 * Fill a `genLength` hole between `prefix` and `suffix`; the result's `generated` holds only real
 * tokens. With `candidates` > 1 and a suffix, the decoded fill is ranked against a beam search's
 * and the lines in view (candidates.ts); a better one replaces it in one last step.
 */
export async function infill(model: DiffusionModel, request: InfillRequest, hooks: SamplerHooks = {}): Promise<SampleResult> {
  requireKind(model.config.kind, 'diffusion');
  const knobs = resolveKnobs(request, model.config);
  const layout = layoutInfill(request, model.config);
  if (knobs.candidates > 1 && !hooks.decode) throw new RequestError('candidates > 1 needs hooks.decode (line breaks and blank fills are told by the tokens\' text)');
  if (knobs.candidates > 1 && hooks.stop) throw new RequestError('candidates > 1 ranks whole fills: it cannot be combined with stopAt');
  const res = await denoise(model, layout, knobs, hooks);
  const { spanStart, spanEnd } = layout;
  if (knobs.candidates <= 1 || spanEnd === layout.tokens.length) return res; // no suffix to rank by
  const canvas = Int32Array.from(res.tokens);
  const { ids, stats } = await rankFills(model, canvas, spanStart, spanEnd, knobs.candidates, hooks.decode!, {
    signal: hooks.signal, syntax: hooks.syntax, suffixEndsText: knobs.suffixEndsText && layout.droppedSuffix === 0, // the text's end, and no budget cut it
    fillBeginsLine: knobs.fillBeginsLine,
  });
  const counts = {
    steps: res.stats.steps, forwards: res.stats.forwards + stats.forwards, skippedForwards: res.stats.skippedForwards,
    revisions: res.stats.revisions, ms: res.stats.ms + stats.ms,
  };
  if (stats.chosen === 0) return { ...res, stats: { ...res.stats, ...makeStats({ ...counts, tokensGenerated: res.stats.tokensGenerated }), candidates: stats } };
  // another fill won (it differs from the decoded one somewhere): one last step writes it
  const { pad, eos } = model.config.special_tokens;
  const changes: TokenChange[] = [];
  for (let p = spanStart; p < spanEnd; p++) {
    const t = p - spanStart < ids.length ? ids[p - spanStart]! : pad;
    if (canvas[p] !== t) changes.push({ position: p, token: t, confidence: 1, state: 'committed' });
    canvas[p] = t;
  }
  const lastBlock = Math.ceil((spanEnd - spanStart) / knobs.blockLength) - 1;
  hooks.onStep?.({ step: res.stats.steps, block: lastBlock, changes, forwardSkipped: false, maskedLeft: 0 });
  const out = result(canvas, layout, (t) => t === pad || t === eos, hooks, { ...counts, steps: counts.steps + 1 });
  return { ...out, stats: { ...res.stats, ...out.stats, candidates: stats } };
}

/** The loop itself, on a laid-out canvas. */
export async function denoise(model: DiffusionModel, layout: CanvasLayout, knobs: ResolvedKnobs, hooks: SamplerHooks = {}): Promise<SampleResult> {
  const blockCausal = isBlockCausal(model.config);
  if (blockCausal && !model.decideBlock) throw new Error('a block-causal model without decideBlock');
  if (blockCausal && layout.spanStart === 0) throw new RequestError('a block-causal model needs at least one token before the span');
  if (knobs.commitOrder === 'verify') return draftAndVerify(model, layout, knobs, hooks);
  if (hooks.stop && knobs.revision !== null) throw new RequestError('stopAt cannot be combined with revision: a later step could re-mask the tokens a stop kept');
  const { mask, pad, eos } = model.config.special_tokens;
  const { signal } = hooks;
  const { spanStart, spanEnd } = layout;
  const { schedule, revision } = knobs;
  const started = now();
  throwIfCancelled(signal);
  hooks.onStart?.({ ...layout, tokens: layout.tokens.slice() });

  const canvas = Int32Array.from(layout.tokens);
  const hasSuffix = spanEnd < canvas.length;
  const timesRevised = new Int32Array(canvas.length);
  const isEnd = (t: number) => t === eos || t === pad;

  const blocks = splitBlocks(spanStart, spanEnd, knobs.blockLength);
  // Fixed schedule: steps granted to each block. Threshold: computed from maxSteps as we go.
  const blockSteps =
    schedule.kind !== 'fixed'
      ? null
      : 'steps' in schedule
        ? numTransferTokens(schedule.steps, blocks.length)
        : blocks.map(([s, e]) => Math.ceil((e - s) / schedule.tokensPerStep));

  let step = 0;
  let forwards = 0;
  let skippedForwards = 0;
  let revisions = 0;
  let stopped = false; // hooks.stop ended the text
  // Forward-pass cache: decisions of the last pass, valid while the canvas version is unchanged.
  let version = 0;
  let cache: { version: number; index: Map<number, number>; d: Decisions } | null = null;
  // dualCache: the canvas of the last whole forward, and the block it was run for
  const dual = knobs.dualCache && !blockCausal && model.decideDual ? { tokens: null as Int32Array | null, block: -1, refreshes: 0, windowed: 0 } : null;

  /** Decisions for `positions` of block [blockStart, blockEnd): the last pass if the canvas is unchanged, else a new one. */
  async function decisionsFor(positions: number[], blockStart: number, blockEnd: number): Promise<{ d: Decisions; index: Map<number, number>; skipped: boolean }> {
    if (knobs.reuseForward && cache && cache.version === version && positions.every((p) => cache!.index.has(p))) {
      return { d: cache.d, index: cache.index, skipped: true };
    }
    const opts = { temperature: knobs.temperature, seed: knobs.seed, step };
    let d: Decisions;
    if (blockCausal) {
      // the engine reuses what its cache already holds of this context
      const order = cacheOrder(canvas.length, spanEnd, blockStart);
      d = await model.decideBlock!({
        context: Int32Array.from(order, (p) => canvas[p]),
        contextPositions: Int32Array.from(order),
        block: canvas.slice(blockStart, blockEnd),
        blockPos0: blockStart,
        offsets: Int32Array.from(positions, (p) => p - blockStart),
      }, opts);
    } else {
      // Once the span has ended (eos/pad) with nothing after it, the trailing pad is not sent at all.
      let length = canvas.length;
      if (!hasSuffix) while (length > spanStart && canvas[length - 1] === pad && isEnd(canvas[length - 2] ?? -1)) length--;
      const tokens = canvas.slice(0, length);
      if (dual) {
        // a window step while only the block's tokens changed since this block's whole forward
        const end = Math.min(blockEnd, length);
        const fresh = dual.block === blockStart && dual.tokens?.length === length && dual.tokens.every((t, p) => (p >= blockStart && p < end) || t === tokens[p]);
        const step = (window: readonly [number, number] | null) => model.decideDual!(tokens, Int32Array.from(positions), opts, window);
        // (the engine's cache may hold another forward's rows, e.g. a library caller's: refresh then)
        let windowed = fresh;
        d = await (fresh ? step([blockStart, end]).catch((e: unknown) => {
          if ((e as Error)?.name !== 'DualCacheMissError') throw e;
          windowed = false;
          return step(null);
        }) : step(null));
        if (windowed) dual.windowed++;
        else Object.assign(dual, { tokens, block: blockStart, refreshes: dual.refreshes + 1 });
      } else d = await model.decide(tokens, Int32Array.from(positions), opts);
    }
    forwards++;
    checkDecisions(d, positions.length, mask);
    cache = { version, index: new Map(positions.map((p, i) => [p, i])), d };
    return { d, index: cache.index, skipped: false };
  }

  for (let b = 0; b < blocks.length; b++) {
    const [blockStart, blockEnd] = blocks[b];
    for (let blockStep = 0; ; blockStep++) {
      // Steps this block may still take, this one included. The last one commits everything.
      const stepsLeft = blockSteps ? blockSteps[b] - blockStep : (schedule as { maxSteps: number }).maxSteps - step - (blocks.length - b - 1);
      if (stepsLeft <= 0) break;
      const masked: number[] = [];
      const revisable: number[] = [];
      const mayRevise = revision !== null && stepsLeft > revision.finalSteps;
      for (let p = blockStart; p < blockEnd; p++) {
        const t = canvas[p];
        if (t === mask) masked.push(p);
        else if (mayRevise && !isEnd(t) && timesRevised[p] < revision.maxPerPosition) revisable.push(p);
      }
      // Threshold mode ends a block once it is committed; fixed mode spends spare steps polishing.
      if (masked.length === 0 && (schedule.kind !== 'fixed' || revisable.length === 0)) break;

      await checkpoint(signal);
      const { d, index, skipped } = await decisionsFor([...masked, ...revisable], blockStart, blockEnd);
      throwIfCancelled(signal);
      if (skipped) skippedForwards++;

      // 1. Commit: rank the masked positions by confidence, or keep them in order (leftToRight:
      //    only a run from the first mask is committed). With endsInOrder an eos/pad may only be
      //    committed at the first masked position (earlier blocks hold no masks); in order, a run
      //    may reach one, and what follows it becomes pad (3.).
      const inOrder = knobs.commitOrder === 'leftToRight';
      const eligible = knobs.endsInOrder && stepsLeft > 1 && !inOrder
        ? masked.filter((p, i) => i === 0 || !isEnd(d.token[index.get(p)!]))
        : masked;
      const ranked = eligible.map((position) => ({ position, confidence: confidenceOf(d, index.get(position)!, knobs.confidence) }));
      if (!inOrder) ranked.sort(byConfidenceDesc);
      let count: number;
      if (stepsLeft === 1) count = ranked.length;
      else if (schedule.kind === 'threshold' && inOrder) count = Math.max(1, leadingRun(ranked, schedule.tau));
      else if (schedule.kind === 'threshold') count = Math.max(1, ranked.filter((r) => r.confidence >= schedule.tau).length);
      else if (schedule.kind === 'entropyBound') count = entropyRun(ranked.map((r) => d.entropy[index.get(r.position)!]), schedule.gamma);
      else if ('steps' in schedule) count = numTransferTokens(masked.length, stepsLeft)[0];
      else count = Math.min(schedule.tokensPerStep, masked.length);
      const committed = ranked.slice(0, count);

      // 2. Revise: re-mask the least probable earlier commitments below rho, within the budget.
      const remasked = !mayRevise
        ? []
        : revisable
            .map((position) => ({ position, prob: d.currentProb[index.get(position)!] }))
            .filter((r) => r.prob < revision.rho)
            .sort((x, y) => x.prob - y.prob || x.position - y.position)
            .slice(0, revision.maxPerStep);

      const before = canvas.slice(spanStart, spanEnd);
      for (const { position } of committed) canvas[position] = d.token[index.get(position)!];
      for (const { position } of remasked) {
        canvas[position] = mask;
        timesRevised[position]++;
      }
      revisions += remasked.length;
      // 3. Length: everything after the first eos/pad of the span is pad; so is everything after
      //    the committed run from the span's start once hooks.stop says the text is over.
      let end = spanStart;
      while (end < spanEnd && !isEnd(canvas[end])) end++;
      if (end === spanEnd && hooks.stop) {
        let run = spanStart;
        while (run < spanEnd && canvas[run] !== mask) run++;
        if (run > spanStart && run < spanEnd && stopsHere(hooks, canvas.subarray(spanStart, run))) {
          stopped = true;
          end = run;
          canvas[run] = pad;
        }
      }
      for (let p = end + 1; p < spanEnd; p++) canvas[p] = pad;

      // 4. Stream the delta.
      const confidence = new Map(committed.map((c) => [c.position, c.confidence]));
      const remaskedProb = new Map(remasked.map((r) => [r.position, r.prob]));
      const changes: TokenChange[] = [];
      let maskedLeft = 0;
      for (let p = spanStart; p < spanEnd; p++) {
        const token = canvas[p];
        if (token === mask) maskedLeft++;
        if (token !== before[p - spanStart]) {
          if (token === mask) changes.push({ position: p, token, confidence: remaskedProb.get(p)!, state: 'revised' });
          else changes.push({ position: p, token, confidence: p > end ? 1 : (confidence.get(p) ?? 1), state: 'committed' });
          version++;
        } else if (knobs.previews && token === mask && index.has(p) && !remaskedProb.has(p)) {
          const i = index.get(p)!;
          changes.push({ position: p, token: d.token[i], confidence: confidenceOf(d, i, knobs.confidence), state: 'masked' });
        }
      }
      const event: StepEvent = { step, block: b, changes, forwardSkipped: skipped, maskedLeft };
      hooks.onStep?.(event);
      step++;
      if (stopped) break;
    }
    if (stopped) break;
  }

  const res = result(canvas, layout, isEnd, hooks, { steps: step, forwards, skippedForwards, revisions, ms: now() - started }, stopped);
  if (dual) res.stats.dualCache = { refreshes: dual.refreshes, windowed: dual.windowed };
  return res;
}

/** The run's result: the span up to its first eos/pad is what was generated. */
function result(canvas: Int32Array, layout: CanvasLayout, isEnd: (t: number) => boolean, hooks: SamplerHooks,
  c: { steps: number; forwards: number; skippedForwards: number; revisions: number; ms: number }, stopped = false): SampleResult {
  const { spanStart, spanEnd } = layout;
  const span = Array.from(canvas.subarray(spanStart, spanEnd));
  const end = span.findIndex(isEnd);
  const generated = end < 0 ? span : span.slice(0, end);
  return {
    tokens: Array.from(canvas),
    generated,
    text: hooks.decode ? hooks.decode(generated) : undefined,
    finishReason: stopped ? 'stop' : end < 0 ? 'length' : 'eos',
    layout: { spanStart, spanEnd, droppedPrefix: layout.droppedPrefix, droppedSuffix: layout.droppedSuffix },
    stats: makeStats({ ...c, tokensGenerated: generated.length }),
  };
}

/**
 * commitOrder 'verify' (block-causal models): self-speculative decoding.
 *
 *   committed text c, drafts d_1 .. d_k (tentative, for positions c .. c+k-1)
 *   each step, one block step:  context = [suffix |] text | d_1 .. d_k   (clean, causal)
 *                               block   = masks at c+k .. c+k+B-1         (drafts the tokens ahead)
 *     the AR head's token a_i for position c+i (i = 0 .. k), from context row c+i-1
 *     keep d_1 .. d_j while d_i = a_{i-1}, then a_j: j + 1 tokens, exactly the AR head's choices
 *     all k kept: the block's rows are the next drafts (the run from the first with confidence
 *     >= tau); else no drafts (they were drafted after a wrong token), the next step drafts anew
 *   B: blockLength, or (draftLength 'adaptive') the last run of confident drafts + 2, and 0 (no
 *     mask rows) for 1, 3, 7, 8, .. steps after rows that drafted nothing
 *   lookup: drafts copied from the text instead, when longer: what followed the latest earlier
 *     occurrence of the text's last 3 (else 2, else 1: lookupMatch) tokens (prompt lookup;
 *     lookupDraft), at most L of them: L starts at lookup / 2, doubles (up to lookup) when a
 *     copy is kept whole, else becomes what was kept + 1 (at least 2): every draft is a row of
 *     compute
 *   rowCost r (a row's cost in single-row steps; default the engine's model.rowCost, else 0: off):
 *     a draft position pays when the chance that it and every draft before it is kept exceeds r,
 *     so each kind of draft (block; copies after a 3-, 2- or 1-token match, or after a copy kept
 *     whole) drafts at most n with share^n > its cost, share being the part of its verified
 *     positions kept so far (from 2 of 3; 2 of 5 after one token); a block draft costs 2r (its
 *     mask row, then its verify row), so where r >= 1/2 the block drafts nothing and runs no
 *     mask rows
 *   the span ends at the first eos/pad, as in denoise, or where hooks.stop says the text is over
 *   with hooks.syntax, the kept tokens pass the syntax gate first (syntaxGate.ts): from the first
 *   that breaks the text's syntax, or (hooks.tail, no suffix) after which the text could not end
 *   cleanly in the span's tokens left, they are replaced by the best alternative that keeps it
 */
async function draftAndVerify(model: DiffusionModel, layout: CanvasLayout, knobs: ResolvedKnobs, hooks: SamplerHooks): Promise<SampleResult> {
  const { mask, pad, eos } = model.config.special_tokens;
  const { spanStart, spanEnd } = layout;
  const { signal } = hooks;
  const started = now();
  throwIfCancelled(signal);
  hooks.onStart?.({ ...layout, tokens: layout.tokens.slice() });
  const canvas = Int32Array.from(layout.tokens);
  const isEnd = (t: number) => t === eos || t === pad;
  const tau = knobs.schedule.kind === 'threshold' ? knobs.schedule.tau : 0;
  const gamma = knobs.schedule.kind === 'entropyBound' ? knobs.schedule.gamma : null;
  let c = spanStart;
  const suffix = Array.from(canvas.subarray(spanEnd));
  // rowCost r > 0: per kind of draft ('block'; 'copy3' / 'copy2' / 'copy1' by match length, '+'
  // after a copy kept whole) the share of its verified positions kept so far, from 2 of 3; copies after
  // one token from 2 of 5, about what they keep (bench/draft_bound.py), so they wait for rows
  // cheaper than 0.4 steps
  const r = knobs.rowCost ?? model.rowCost ?? 0;
  const record: Record<string, [number, number]> = {};
  const prior = (kind: string): [number, number] => (kind === 'copy1' ? [2, 5] : [2, 3]);
  const worth = (kind: string, cost: number) => {
    if (r <= 0) return Infinity;
    const [keptN, seenN] = record[kind] ?? prior(kind);
    return keptN / seenN <= cost ? 0 : Math.floor(Math.log(cost) / Math.log(keptN / seenN));
  };
  let copyLength = Math.ceil(knobs.lookup / 2); // L
  const first = findCopy(canvas, c, suffix, knobs.lookupMatch);
  let kind = `copy${first?.n ?? 0}`; // the current drafts' kind
  let drafts = first ? copyAfter(canvas, c, suffix, first, Math.min(copyLength, worth(kind, r), spanEnd - c - 1)) : [];
  let fromLookup = drafts.length > 0; // where the current drafts came from (stats)
  if (!fromLookup) kind = 'block';
  const kept = { fromBlock: 0, fromLookup: 0 };
  let rows = knobs.blockLength; // mask rows of the next step (draftLength)
  let rest = 0; // steps left with no mask rows ('adaptive': the block drafted nothing lately)
  let backoff = 0; // the last rest granted
  let step = 0;
  let ended = false;
  let stopped = false; // hooks.stop ended the text
  const gate = hooks.syntax && hooks.decode ? new SyntaxGate(model, layout, hooks.syntax, hooks.decode, (upTo) => cacheOrder(canvas.length, spanEnd, upTo), hooks.tail) : null;
  while (c < spanEnd && !ended) {
    await checkpoint(signal);
    const k = Math.min(drafts.length, spanEnd - c - 1);
    const blockDrafts = worth('block', 2 * r); // a block draft costs its mask row, then its verify row
    const B = rest > 0 || blockDrafts === 0 ? 0 : Math.min(rows, blockDrafts + 1, spanEnd - (c + k));
    const order = cacheOrder(canvas.length, spanEnd, c);
    const context = Int32Array.from([...order.map((p) => canvas[p]), ...drafts.slice(0, k)]);
    const contextPositions = Int32Array.from([...order, ...Array.from({ length: k }, (_, i) => c + i)]);
    const last = order.length + k - 1; // context row of position c + k - 1
    const d = await model.decideBlock!({
      context, contextPositions, block: new Int32Array(B).fill(mask), blockPos0: c + k,
      offsets: Int32Array.from({ length: Math.max(0, B - 1) }, (_, i) => i + 1),
      contextRows: Int32Array.from({ length: k + 1 }, (_, i) => last - k + i),
    }, { temperature: knobs.temperature, seed: knobs.seed, step });
    checkDecisions(d, k + Math.max(1, B), mask);
    throwIfCancelled(signal);
    // verify: keep drafts while the AR head agrees, then the AR head's token after them
    let j = 0;
    while (j < k && drafts[j] === d.token[j]) j++;
    let keep = [...drafts.slice(0, j), d.token[j]];
    let rejected: SyntaxRejection | null = null;
    if (gate) ({ kept: keep, rejected } = await gate.gate(canvas, c, keep));
    const intact = keep.length === j + 1 && !rejected; // else the drafts were made after a token now gone
    kept[fromLookup ? 'fromLookup' : 'fromBlock'] += Math.min(j, keep.length);
    if (k > 0) {
      const seen = (record[kind] ??= prior(kind));
      seen[0] += j;
      seen[1] += Math.min(k, j + 1); // the positions verified: up to the first wrong one
    }
    const changes: TokenChange[] = [];
    for (const [i, t] of keep.entries()) {
      if (ended) break;
      canvas[c + i] = t;
      changes.push({ position: c + i, token: t, confidence: confidenceOf(d, i, knobs.confidence), state: 'committed', ...(rejected?.position === c + i ? { rejected: rejected.token, rejectedFor: rejected.reason } : {}) });
      if (isEnd(t)) ended = true;
    }
    c += changes.length;
    if (!ended && c < spanEnd && stopsHere(hooks, canvas.subarray(spanStart, c))) stopped = ended = true;
    if (ended) for (let p = c; p < spanEnd; p++) {
      canvas[p] = pad;
      changes.push({ position: p, token: pad, confidence: 1, state: 'committed' });
    }
    // next drafts: the block's rows, when every draft held (they were drafted after them)
    drafts = [];
    if (!ended && j === k && intact) {
      const n = gamma === null ? B - 1 : entropyRun(d.entropy.subarray(k + 1, k + B), gamma, 0);
      for (let i = 0; i < n && confidenceOf(d, k + 1 + i, knobs.confidence) >= tau; i++) drafts.push(d.token[k + 1 + i]);
    }
    if (knobs.draftLength === 'adaptive') {
      rows = Math.min(knobs.blockLength, Math.max(2, (j === k ? drafts.length : j) + 2));
      // mask rows that drafted nothing confident: none for the next 1, 3, 7, 8, ... steps
      if (B >= 2 && j === k && intact) {
        backoff = drafts.length === 0 ? Math.min(8, 2 * backoff + 1) : 0;
        rest = backoff;
      } else if (rest > 0) rest--;
    }
    // or the text's own continuation, when it drafts further
    if (fromLookup) copyLength = j === k ? Math.min(knobs.lookup, 2 * copyLength) : Math.max(2, j + 1);
    const match = ended ? null : findCopy(canvas, c, suffix, knobs.lookupMatch);
    const copyKind = `copy${match?.n ?? 0}${fromLookup && j === k ? '+' : ''}`;
    const copied = match ? copyAfter(canvas, c, suffix, match, Math.min(copyLength, worth(copyKind, r), spanEnd - c - 1)) : [];
    fromLookup = copied.length > drafts.length;
    if (fromLookup) drafts = copied;
    kind = fromLookup ? copyKind : 'block';
    // (a copied draft has no score yet: confidence 0)
    if (knobs.previews) drafts.forEach((t, i) => changes.push({ position: c + i, token: t, confidence: fromLookup ? 0 : confidenceOf(d, k + 1 + i, knobs.confidence), state: 'masked' }));
    let maskedLeft = 0;
    for (let p = spanStart; p < spanEnd; p++) if (canvas[p] === mask) maskedLeft++;
    hooks.onStep?.({ step, block: 0, changes, forwardSkipped: false, maskedLeft });
    step++;
  }
  const res = result(canvas, layout, isEnd, hooks, { steps: step, forwards: step + (gate?.forwards ?? 0), skippedForwards: 0, revisions: 0, ms: now() - started }, stopped);
  res.stats.drafts = kept;
  if (gate) res.stats.syntax = { rejected: gate.rejected, forEnd: gate.forEnd, forwards: gate.forwards, parses: gate.parses, parseMs: gate.parseMs };
  return res;
}

/**
 * Canvas positions of a block-causal model's context, in cache order: the suffix (after the span,
 * at its true positions) first, then the committed text before `upTo`.
 */
function cacheOrder(canvasLength: number, spanEnd: number, upTo: number): number[] {
  return [...Array.from({ length: canvasLength - spanEnd }, (_, i) => spanEnd + i), ...Array.from({ length: upTo }, (_, i) => i)];
}

/**
 * Prompt lookup: up to `max` tokens that followed the latest earlier occurrence of the last 3 (else
 * 2, else 1, down to `minMatch`) tokens of canvas[0, c), searched in the text before them, then in
 * `suffix` (infill). A copy that reaches c goes on with its own tokens (a repeating line drafts its
 * next repeats). Copies after one token are kept less often; the caller sizes each kind by its own
 * record (rowCost).
 */
export function lookupDraft(canvas: Int32Array, c: number, suffix: number[], max: number, minMatch = 1): number[] {
  const m = max > 0 ? findCopy(canvas, c, suffix, minMatch) : null;
  return m ? copyAfter(canvas, c, suffix, m, max) : [];
}

/** Where lookupDraft copies from: after the match of length n at s, in the text or the suffix. */
interface CopyMatch {
  n: number;
  s: number;
  inSuffix: boolean;
}

/** lookupDraft's search: the latest match of the last 3 tokens in the text, else in the suffix, else the same for 2, then 1 (down to minMatch). */
function findCopy(canvas: Int32Array, c: number, suffix: number[], minMatch: number): CopyMatch | null {
  for (let n = Math.min(3, c - 1); n >= minMatch; n--) {
    const tail = canvas.subarray(c - n, c);
    const matchAt = (seq: ArrayLike<number>, s: number) => {
      for (let i = 0; i < n; i++) if (seq[s + i] !== tail[i]) return false;
      return true;
    };
    for (let s = c - n - 1; s >= 0; s--) if (matchAt(canvas, s)) return { n, s, inSuffix: false };
    for (let s = 0; s + n < suffix.length; s++) if (matchAt(suffix, s)) return { n, s, inSuffix: true };
  }
  return null;
}

/** Up to `max` tokens after match m (a copy that reaches c goes on with its own tokens). */
function copyAfter(canvas: Int32Array, c: number, suffix: number[], m: CopyMatch, max: number): number[] {
  if (m.inSuffix) return suffix.slice(m.s + m.n, m.s + m.n + max);
  const out: number[] = [];
  for (let i = 0, p = m.s + m.n; i < max; i++, p++) out.push(p < c ? canvas[p] : out[p - c]);
  return out;
}

/**
 * The EB-sampler's rule: the longest run of entries from the first whose summed entropy less its
 * largest is <= gamma (at least `least`, at most all).
 */
export function entropyRun(entropies: ArrayLike<number>, gamma: number, least = 1): number {
  let sum = 0;
  let max = 0;
  let n = 0;
  while (n < entropies.length) {
    const h = Math.max(0, entropies[n]);
    if (!Number.isFinite(h) || sum + h - Math.max(max, h) > gamma) break; // (NaN: not a number to trust)
    sum += h;
    max = Math.max(max, h);
    n++;
  }
  return Math.min(entropies.length, Math.max(least, n));
}

/** Length of the run of entries from the first whose confidence reaches tau. */
function leadingRun(ranked: { confidence: number }[], tau: number): number {
  let n = 0;
  while (n < ranked.length && ranked[n].confidence >= tau) n++;
  return n;
}
