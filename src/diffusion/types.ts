// Request / step-event / result types of the samplers (diffusion and its autoregressive twin).
// Plain data only, so they cross a worker boundary (structured clone) unchanged; src/protocol.ts
// re-exports them. Token ids everywhere: the worker tokenizes, the sampler never sees text
// except through the optional `decode` hook.

import type { StopAt } from './stopRule';

export type { StopAt };

/**
 * How masked positions are chosen for commitment at each step.
 *
 * - `fixed`: a fixed number of steps per block, chosen by lowest-confidence remasking (LLaDA's
 *   `remasking='low_confidence'`): each step commits the most confident masked positions. Give
 *   exactly one of
 *   - `steps`: total number of steps over the whole span. They are split over the blocks as evenly
 *     as possible (earlier blocks get the extra ones) and, inside a block, the masked count is split
 *     over that block's steps exactly like LLaDA's `get_num_transfer_tokens` (the first
 *     `masked % steps` steps commit one more). If revision re-masks tokens the split is recomputed
 *     from what is still masked, so a block still ends in its stated steps. More steps than tokens
 *     are allowed: with revision the spare steps polish (re-mask and re-commit), without it the loop
 *     stops as soon as nothing is left masked.
 *   - `tokensPerStep` (k): commit k positions per step; a block of n positions gets ceil(n / k)
 *     steps and its last step commits whatever is still masked.
 * - `threshold` (adaptive, Fast-dLLM style): commit every masked position of the current block whose
 *   confidence is >= `tau`, and always at least the single most confident one. The number of steps
 *   is whatever it takes (reported in the stats), capped by `maxSteps`: when the cap is reached the
 *   block's last allowed step commits everything still masked.
 * - `entropyBound` (adaptive, the EB-sampler, arXiv 2505.24857): commit the longest run of the
 *   ranked masked positions (most confident first — by `confidence`, which defaults to 'entropy'
 *   here: lowest entropy first — or in order with 'leftToRight') whose summed
 *   entropy less its largest stays <= `gamma` nats, so at least one; the sum bounds how far the
 *   committed tokens are from independent. With 'verify', the block's drafts are the run from its
 *   first row under the same bound. Steps capped by `maxSteps` as for `threshold`.
 */
export type UnmaskSchedule =
  | { kind: 'fixed'; steps: number; tokensPerStep?: undefined }
  | { kind: 'fixed'; tokensPerStep: number; steps?: undefined }
  | {
      kind: 'threshold';
      /** Commit threshold on the confidence measure, in (0, 1]. */
      tau: number;
      /**
       * Hard cap on the total number of steps (all blocks together); must be >= the number of
       * blocks. Default: `genLength` without revision (one token per step is the slowest possible
       * schedule anyway), `2 * genLength` with revision.
       */
      maxSteps?: number;
    }
  | {
      kind: 'entropyBound';
      /** Entropy budget in nats, > 0: the committed positions' summed entropy less the largest. */
      gamma: number;
      /** As for `threshold`. */
      maxSteps?: number;
    };

/**
 * Which number ranks masked positions (and is compared with `tau`):
 * - `prob`: softmax probability of the chosen token (at the sampling temperature);
 * - `margin`: top-1 minus top-2 probability;
 * - `entropy`: negative entropy, mapped monotonically into (0, 1] as exp(-H) (= 1 / perplexity), so
 *   it ranks exactly like -H and a threshold in (0, 1] still means something.
 */
export type ConfidenceMeasure = 'prob' | 'margin' | 'entropy';

/**
 * Error correction, ReMDM-style: after a forward pass, committed generated tokens whose probability
 * under that pass (`Decisions.currentProb`) is below `rho` are re-masked, and re-decided on a later
 * step. Termination is guaranteed: at most `maxPerStep` re-masks per step, at most `maxPerPosition`
 * re-masks of any one position, none in the last `finalSteps` steps of a block (so the last step of a
 * block always leaves it fully committed), the fixed schedule's step count / the threshold schedule's
 * `maxSteps` as a hard cap. Only tokens of the current block that were committed on an earlier step
 * are eligible; eos/pad tokens (and the pad after them) are final and never revised.
 */
export interface RevisionOptions {
  /** Re-mask a committed token when its current probability is below this, in (0, 1]. */
  rho: number;
  /** Most tokens re-masked in one step (the lowest `currentProb` first). Integer >= 1. Default 1. */
  maxPerStep?: number;
  /** Most times any one position may be re-masked. Integer >= 1. Default 1. */
  maxPerPosition?: number;
  /** No re-masking in the last this-many steps of each block. Integer >= 1. Default 1. */
  finalSteps?: number;
}

/** Which masked positions a step commits (SamplerKnobs.commitOrder). */
export type CommitOrder = 'confidence' | 'leftToRight' | 'verify';

/** Knobs shared by every request. All optional except where a request type says otherwise. */
export interface SamplerKnobs {
  /**
   * Length N of the generated span: the number of mask tokens put on the canvas (an upper bound on
   * the tokens generated, since an eos/pad ends the text early). Integer >= 1.
   */
  genLength: number;
  /** Unmasking rule. Default `{ kind: 'fixed', steps: genLength }` (one token per step, LLaDA's default). */
  schedule?: UnmaskSchedule;
  /** Confidence measure used for ranking and thresholds. Default `'prob'`. */
  confidence?: ConfidenceMeasure;
  /**
   * Semi-autoregressive block length: the span is cut into blocks of this many positions (the last
   * may be shorter), decoded left to right, positions within a block in parallel. Nothing outside
   * the current block is committed or revised. Default: the model's `block_size` for a
   * block-causal model (config.attention "block_causal", decoded against a KV cache), else
   * `genLength` (one block).
   */
  blockLength?: number;
  /**
   * Which masked positions of the block a step commits. `'confidence'`: the most confident anywhere
   * in the block (LLaDA). `'leftToRight'`: the longest run of masked positions from the block's
   * first one whose confidence reaches tau (threshold schedule; at least one), or the first k
   * (fixed schedules): parallel decoding that keeps the text's order, where a small model would
   * otherwise commit sure-looking newlines and closers out of place. `'verify'` (block-causal
   * models): the block's rows draft the tokens ahead; the next step runs the drafts as clean
   * causal rows and keeps the longest run of them the model's AR head agrees with, plus the AR
   * head's own next token: exactly the AR head's decoding (greedy, or sampled at `temperature`),
   * one to a block's worth of tokens per forward pass (self-speculative decoding). Drafts stop at
   * the first below tau (threshold schedule; a fixed schedule drafts the whole block). Default: `'verify'` for block-causal models (the
   * best point measured: bench/README.md "Decoding"), else `'confidence'`.
   */
  commitOrder?: CommitOrder;
  /**
   * `'verify'` only: how many mask rows a step drafts with. `'adaptive'` (default): as many as the
   * previous step's run of confident drafts plus 2 (at least 2, at most blockLength; the first
   * step uses blockLength), since every row costs compute on a CPU and rows past what the model is
   * sure of rarely yield a kept draft; and after mask rows that drafted nothing confident, none at
   * all (an empty block: the AR head's row alone) for the next 1, then 3, 7, 8, 8, ... steps, until
   * a probe with 2 rows drafts again. The text is the same either way (the AR head decides every
   * token). `'block'`: always blockLength rows.
   */
  draftLength?: 'adaptive' | 'block';
  /**
   * `'verify'` only: drafts copied from the text (prompt lookup), at most this many tokens; 0 turns
   * them off. Before each step the last 3 (else 2, else 1: `lookupMatch`) tokens of the text are
   * looked up in the text before them (and in the suffix, for infill); the tokens that followed the
   * latest match are the drafts when they are more than the block's own confident drafts. Their number adapts: half of
   * `lookup` at first, doubled after a copy the AR head kept whole, else what it kept + 1. Code
   * repeats itself (names, calls, whole lines), and the AR head still decides every token, so the
   * text is the same with or without them; only the forwards per token fall. Default 16
   * (bench/README.md "Decoding").
   */
  lookup?: number;
  /**
   * `'verify'` only: the shortest match `lookup` copies after (1..3; default 1). When neither the
   * last 3 nor the last 2 tokens occurred before, the latest earlier occurrence of the last token
   * alone is used. Such copies are kept less often (the first about 4 times in 10 on held-out
   * headers, against 9 in 10 after 3 tokens), so they form their own kind of draft for `rowCost`:
   * on an engine where rows cost, they draft only where rows cost less than 0.4 steps, and then
   * only while they pay. 2: the rule before 2026-12-04.
   */
  lookupMatch?: number;
  /**
   * `'verify'` only: what one more row of a block step costs, in steps of one row (0..1). Each
   * draft is a row, and pays only when it is kept often enough: with r > 0, each kind of draft
   * (the block's, copies after a 3-, 2- or 1-token match, copies after a copy kept whole) drafts at
   * most the n positions whose chance of all being kept, share^n, exceeds r (2r for the block's:
   * a mask row, then a verify row), its share being the part of its verified positions kept so
   * far in this run (starting from 2 of 3; copies after one token from 2 of 5, so they wait for
   * rows cheaper than 0.4 steps). So where r >= 1/2 no mask rows run at all. Greedy, the
   * text is the same either way; only the forwards and rows per token change. Default: the engine's
   * `rowCost` (the CPU engine's 0.45, measured; bench/README.md "Row cost"), else 0 (off).
   */
  rowCost?: number;
  /**
   * Sampling temperature, >= 0. 0 is greedy (argmax); > 0 is Gumbel-max sampling done by the engine
   * from `seed` and the step index, so a run is reproducible.
   */
  temperature?: number;
  /** Seed for the engine's Gumbel noise, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Error correction (re-masking); off when absent. Diffusion only. */
  revision?: RevisionOptions;
  /**
   * When the canvas would exceed the model's `max_seq_len`: if true, drop tokens from the left of
   * the prompt/prefix and from the right of the suffix until it fits; if false (default), reject the
   * request with a clear error.
   */
  truncate?: boolean;
  /**
   * Skip the forward pass when the canvas has not changed since the last one and reuse its
   * decisions (MDLM's caching trick); skipped passes are counted in the stats. With temperature > 0
   * a reused pass also reuses its Gumbel draw. Default true.
   */
  reuseForward?: boolean;
  /**
   * Full-attention models (config.attention "full"): Fast-dLLM's DualCache (arXiv 2505.22618), an
   * approximation. When a block starts (or anything outside it changed) one whole forward runs and
   * every layer's keys and values are kept; the block's other steps run only the block's rows
   * against them, so the prompt's and the suffix's keys and values are those of the block's start
   * (they do not see the block's new tokens until the next block). Block-causal models ignore it
   * (their cache is exact). Default false; its cost in quality: bench/README.md "DualCache".
   */
  dualCache?: boolean;
  /**
   * Commit eos/pad only at the first still-masked position of the span, so that where the text
   * ends is decided left to right. Small models are often surest that the far end of a span is
   * padding; committing that first lets the padding spread leftwards step by step until the span
   * collapses to a token or two (seen with qs-code-diffusion-base in one block at τ = 0.9). A
   * block's last step still commits everything. Default true.
   */
  endsInOrder?: boolean;
  /**
   * Also report, in each step event, the model's current guess at every still-masked position of
   * the current block (state `'masked'`), for "ghost text" in the UI. Default false.
   */
  previews?: boolean;
  /**
   * Check the Python syntax of the text between steps (SamplerHooks.syntax, which the worker
   * provides when this is set; commitOrder 'verify' only). Default false.
   */
  syntaxCheck?: boolean;
  /**
   * Infill with a suffix, block-causal models: besides the fill decoded as usual (and its cuts at
   * line ends), a beam search of the hole's first line with this many beams (the AR head reading
   * the prefix) and the whole lines in view in the prefix and suffix; each is scored by how likely
   * it reads in place, left to right (log P(first 32 suffix tokens | prefix + fill) + 0.75 x
   * log P(fill | prefix)), and the one whose first line is most like the others', weighted by
   * their scores, is the result (its tokens arrive as one last step; blank candidates, and cuts
   * and beams that do not begin as the decoded fill does, with a line break or not, or with
   * `fillBeginsLine` as a line, are left out; src/diffusion/candidates.ts). Needs hooks.decode. 1: off. Integer 1..32. Default 1 (the app's
   * Fill uses 4: bench/README.md "Infill").
   */
  candidates?: number;
  /**
   * Infill: the suffix is the text's end (nothing follows it in the file), so its last line is a
   * whole line even without a final line break, and `candidates` may copy it. Honoured only when
   * no budget cut the suffix (`truncate`, or the worker's cut of a very long text). Default false:
   * a caller passing a window of the text (or not knowing) leaves it off, and a last line without
   * a break is then never copied. The app's Fill sets it (its suffix is the rest of the editor).
   */
  suffixEndsText?: boolean;
  /**
   * Infill with `candidates` > 1: the hole begins a line (the text before it ends one), so every
   * candidate begins with a line break, the beams' first token too, whatever the decoded fill
   * does (it may have gone on with the line before); if none qualifies, the decoded fill stands.
   * The worker's SamplerHost sets it, unless the request says, when the prefix it was given has
   * text and ends with a line break (a Fill of whole lines: the selection starts a line). Default
   * false.
   */
  fillBeginsLine?: boolean;
  /**
   * Text requests (the worker's SamplerHost): stop decoding once the text committed so far shows
   * where a completion at the cursor ends, instead of writing tokens that will be thrown away.
   * `'line'`: at its first line break (a completion in the middle of a line is shown as one line).
   * `'block'`: once a line leaves the cursor's block (src/diffusion/stopRule.ts: indented less
   * than the cursor's line, or no deeper after a line that opens a block). The line that ends it
   * is still in the text, so the cut (src/lib/completionEdit.ts) finds the same place; the rest
   * of the span becomes pad and the result's finishReason is `'stop'`. Both samplers, and the
   * AR twin, honour it; it cannot be combined with `revision` (a later step could re-mask what
   * the stop kept) or `candidates` > 1 (they rank whole fills). Default: none (decode the whole
   * span).
   */
  stopAt?: StopAt;
}

/** Left-to-right generation: the canvas is `prompt` followed by `genLength` masks. */
export interface GenerateRequest extends SamplerKnobs {
  /** Prompt token ids; non-empty; never changed. */
  prompt: number[];
}

/**
 * Infilling: the canvas is `prefix`, `genLength` masks, `suffix`. The span may end early with
 * eos/pad, so a span of unknown length works: only its real tokens are returned.
 */
export interface InfillRequest extends SamplerKnobs {
  /** Token ids before the hole; never changed. May be empty if `suffix` is not. */
  prefix: number[];
  /** Token ids after the hole; never changed. May be empty if `prefix` is not. */
  suffix: number[];
}

/** The starting canvas, after any truncation. Positions in step events index into `tokens`. */
export interface CanvasLayout {
  /** Initial canvas: fixed tokens and mask tokens. */
  tokens: number[];
  /** First position of the generated span. */
  spanStart: number;
  /** One past the last position of the generated span. */
  spanEnd: number;
  /** Tokens dropped from the left of the prompt/prefix by `truncate`. */
  droppedPrefix: number;
  /** Tokens dropped from the right of the suffix by `truncate`. */
  droppedSuffix: number;
  /**
   * Characters of the prompt/prefix (from the left) and of the suffix (from the right) that are
   * outside the canvas: the dropped tokens' text plus what the worker cut before tokenizing a text
   * far longer than the context. Set by the worker's SamplerHost (text requests); absent otherwise.
   */
  droppedPrefixChars?: number;
  droppedSuffixChars?: number;
}

/**
 * What happened at one position in one step:
 * - `committed`: a token was placed (from a mask, or pad written over the tail after an eos/pad);
 * - `revised`: a committed token was re-masked (`token` is then the mask id);
 * - `masked`: still masked; `token` is only the model's current guess (reported with `previews`).
 */
export type ChangeState = 'committed' | 'revised' | 'masked';

export interface TokenChange {
  /** Index into the canvas (CanvasLayout.tokens). */
  position: number;
  /** The token now at `position` (mask id when revised; the guess when still masked). */
  token: number;
  /**
   * The confidence measure of the decision (committed / masked), the re-masked token's current
   * probability (revised), or 1 for pad written after an eos/pad.
   */
  confidence: number;
  state: ChangeState;
  /** Set when the syntax check turned this token down here: `token` is the alternative committed instead. */
  rejected?: number;
  /** Why: it broke the syntax ('error'), or after it the text could not end cleanly in the span ('end'). */
  rejectedFor?: 'error' | 'end';
}

/** One step, as streamed to the UI: a small delta, never logits. */
export interface StepEvent {
  /** 0-based step index, over the whole run. */
  step: number;
  /** 0-based index of the block being decoded. */
  block: number;
  /** Changed positions in ascending position order (plus `masked` previews if asked for). */
  changes: TokenChange[];
  /** True when this step reused the previous forward pass instead of running one. */
  forwardSkipped: boolean;
  /** Positions of the generated span still masked after this step. */
  maskedLeft: number;
}

export interface SampleStats {
  /** Steps taken (= step events emitted). */
  steps: number;
  /** Forward passes run (decide / prefill / decodeStep calls). */
  forwards: number;
  /** Steps that reused the previous forward pass. */
  skippedForwards: number;
  /** Real tokens generated (eos/pad excluded). */
  tokensGenerated: number;
  /** Re-masks done by revision. */
  revisions: number;
  /** Wall time of the run, milliseconds. */
  ms: number;
  /** tokensGenerated per second of `ms` (0 if `ms` is 0). */
  tokensPerSecond: number;
  /** tokensGenerated / steps (0 if no steps). */
  tokensPerStep: number;
  /** dualCache: forwards that were whole refreshes, and windowed steps (the block's rows only). */
  dualCache?: { refreshes: number; windowed: number };
  /** commitOrder 'verify': tokens kept from the block's drafts and from drafts copied from the text (`lookup`). */
  drafts?: { fromBlock: number; fromLookup: number };
  /**
   * With the syntax hook: tokens turned down (`forEnd` of them so the text can still end cleanly
   * in the span), extra one-row forwards (in `forwards`), parses and their ms.
   */
  syntax?: { rejected: number; forEnd: number; forwards: number; parses: number; parseMs: number };
  /**
   * With `candidates` > 1: candidates ranked, which won (0: the decoded fill stands, i > 0: the
   * i-th ranked), the forwards that took (in `forwards`) and their ms (in `ms`).
   */
  candidates?: { ranked: number; chosen: number; forwards: number; ms: number };
}

export interface SampleResult {
  /** Final canvas: fixed tokens, the generated span (eos/pad included), suffix. */
  tokens: number[];
  /** The real generated tokens: the span up to, not including, its first eos/pad. */
  generated: number[];
  /** `decode(generated)`, when a decode function was given. */
  text?: string;
  /**
   * `eos` if the span ended with an eos/pad, `length` if it was filled to `genLength`, `stop` if
   * `hooks.stop` (SamplerKnobs.stopAt) ended it.
   */
  finishReason: 'eos' | 'length' | 'stop';
  /** Where the span sits and what truncation dropped (the layout minus its tokens). */
  layout: Omit<CanvasLayout, 'tokens'>;
  stats: SampleStats;
}

/** Callbacks and dependencies of one run. */
export interface SamplerHooks {
  /** Called once, before the first step, with the starting canvas (replay step events onto it). */
  onStart?: (layout: CanvasLayout) => void;
  /** Called after every step. */
  onStep?: (event: StepEvent) => void;
  /**
   * Checked before and after every forward pass (the sampler also yields to the event loop once a
   * step so a cancel message can arrive); when aborted the run rejects with `CancelledError`.
   */
  signal?: AbortSignal;
  /** The tokenizer's decode, for `SampleResult.text`. */
  decode?: (ids: number[]) => string;
  /**
   * Python syntax check between steps (commitOrder 'verify' only; needs `decode`): the offset of
   * the first syntax error in `text` at or after `from` that no continuation can fix, or -1.
   * Tokens that would put one there are replaced by the best alternative that keeps the syntax
   * (src/diffusion/syntaxGate.ts). The worker uses pythonSyntaxError (lezer).
   */
  syntax?: (text: string, from: number) => number;
  /**
   * With `syntax`, and when the span has no suffix after it: what the text needs to end cleanly
   * (close its strings and brackets, give a block its body, end the line), so that no token is
   * committed after which the span's tokens left cannot do it (src/diffusion/syntaxGate.ts). The
   * worker uses pythonTail.
   */
  tail?: (text: string) => TextTail;
  /**
   * Checked after every step with the text committed so far (the span's left-to-right run of
   * committed tokens, decoded; needs `decode`): true ends the run there, the rest of the span
   * becoming pad (finishReason 'stop'). The worker builds it from SamplerKnobs.stopAt.
   */
  stop?: (text: string) => boolean;
}

/** What a text needs to end cleanly (SamplerHooks.tail; pythonTail in pythonSyntax.ts). */
export interface TextTail {
  /** The fewest tokens that end the text so that it parses whole. */
  readonly cost: number;
  /** The tail of the text followed by `more`. */
  after(more: string): TextTail;
  /** `after(more).cost`, without keeping the tail (run for every token of a vocabulary). */
  costAfter(more: string): number;
}

/**
 * Thrown (as a rejection) when a run is cancelled through its AbortSignal. Recognise it with
 * `isCancelled(e)`, which also works after the error crossed a worker boundary (name survives).
 */
export class CancelledError extends Error {
  constructor(message = 'generation cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function isCancelled(e: unknown): boolean {
  return e instanceof CancelledError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'CancelledError');
}

// ---------------------------------------------------------------------------------------------
// Text-level requests: what the page sends through the worker (src/protocol.ts re-exports these).
// The worker's SamplerHost (./host.ts) tokenizes them and runs the token-level samplers above.
// ---------------------------------------------------------------------------------------------

/** generate() over the worker boundary: the prompt as text, plus every sampler knob. */
export interface GenerateTextRequest extends SamplerKnobs {
  /** Caller-chosen id; events carry it and cancel() refers to it. Unique among live runs. */
  requestId: string;
  /** Which loaded model runs it (several may be loaded); default: the one loaded last. */
  modelId?: string;
  /** Code before the generated span (tokenized by the worker; must not tokenize to nothing). */
  prompt: string;
}

/** infill() over the worker boundary. Needs a diffusion model. */
export interface InfillTextRequest extends SamplerKnobs {
  requestId: string;
  /** As GenerateTextRequest.modelId. */
  modelId?: string;
  /** Code before the hole. */
  prefix: string;
  /** Code after the hole. */
  suffix: string;
}

/**
 * Streamed while a run decodes. `start` carries the starting canvas (replay `step` events onto
 * `layout.tokens` with applyStep); `pieces` are the display text of the tokens involved
 * (start: every canvas token; step: `step.changes[i].token`), '' for special tokens, so the page
 * needs no tokenizer.
 */
export type GenerationEvent =
  | { type: 'start'; requestId: string; layout: CanvasLayout; pieces: string[] }
  | { type: 'step'; requestId: string; step: StepEvent; pieces: string[] };

/** What generate()/infill() resolve with. `text` is the generated (or infilled) text only. */
export interface GenerationResult extends SampleResult {
  requestId: string;
  text: string;
  /** Which sampler ran: the loaded model's kind. */
  modelKind: 'diffusion' | 'autoregressive';
  /** Id of the model that ran (as given to SamplerHost.setModel). */
  modelId: string;
}
