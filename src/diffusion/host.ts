// The sampler's side of the worker: text in, text out, one run at a time, cancellable by request
// id. src/worker/worker.ts holds one SamplerHost; loadModel() hands it the model and tokenizer.

import { pythonSyntaxError, pythonTail } from './pythonSyntax';
import type { AutoregressiveModel, DiffusionModel } from '../engine/types';
import { generateAutoregressive } from './autoregressive';
import { RequestError } from './request';
import { generate, infill } from './sampler';
import { reachedStop } from './stopRule';
import type { CanvasLayout, GenerateTextRequest, GenerationEvent, GenerationResult, InfillTextRequest, SampleResult, SamplerHooks, SamplerKnobs, StopAt } from './types';

/** The tokenizer, as the host needs it (src/tokenizer's CodeTokenizer fits). */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** One token's display text; falls back to decode([id]). */
  tokenText?(id: number): string;
}

/** Rejection of generate()/infill() when no model is loaded yet. */
export class NoModelError extends Error {
  constructor(message = 'no model is loaded: call loadModel() first') {
    super(message);
    this.name = 'NoModelError';
  }
}

/** The id setModel() uses when none is given. */
export const DEFAULT_MODEL_ID = 'default';

interface Loaded {
  model: DiffusionModel | AutoregressiveModel;
  codec: TextCodec;
}

export class SamplerHost {
  /** Loaded models by id (a diffusion model and its AR twin may both be loaded). */
  private readonly models = new Map<string, Loaded>();
  /** The model requests without a `modelId` use: the one set last. */
  private lastId: string | null = null;
  private readonly live = new Map<string, AbortController>();
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Use this model and tokenizer for runs that name `modelId` (and for runs that name none, until
   * another model is set). null unloads `modelId`. Running runs keep theirs.
   */
  setModel(model: DiffusionModel | AutoregressiveModel | null, codec: TextCodec | null, modelId: string = DEFAULT_MODEL_ID): void {
    if (model && codec) {
      this.models.set(modelId, { model, codec });
      this.lastId = modelId;
    } else {
      this.models.delete(modelId);
      if (this.lastId === modelId) this.lastId = [...this.models.keys()].pop() ?? null;
    }
  }

  /** Ids of the models set now. */
  modelIds(): string[] {
    return [...this.models.keys()];
  }

  private pick(modelId: string | undefined): Loaded & { id: string } {
    const id = modelId ?? this.lastId;
    const loaded = id === null ? undefined : this.models.get(id);
    if (!loaded || id === null) throw new NoModelError(modelId === undefined ? undefined : `model "${modelId}" is not loaded: call loadModel() first`);
    return { ...loaded, id };
  }

  /** Generate after `req.prompt`: the diffusion sampler, or the AR twin for an autoregressive model. */
  generate(req: GenerateTextRequest, onEvent?: (e: GenerationEvent) => void): Promise<GenerationResult> {
    return this.run(req, onEvent, (model, codec, hooks) => {
      checkText(req.prompt, 'prompt');
      const [head, tail] = healWhitespace(req.prompt);
      const kept = keepEnd(head, model.config.max_seq_len, req.truncate);
      // An empty prompt starts a file from nothing: after an end-of-text token, which is what the
      // models saw between files in training.
      const ids = kept.text === '' ? [model.config.special_tokens.eos] : codec.encode(kept.text);
      const tokens = { ...knobsOf(req), prompt: ids };
      const h = withDroppedChars(withStop(hooks, req.stopAt, req.prompt, tail), codec, ids, kept.cut, [], 0);
      const run = model.config.kind === 'diffusion'
        ? generate(model as DiffusionModel, tokens, h.hooks)
        : generateAutoregressive(model as AutoregressiveModel, tokens, h.hooks);
      return run.then((r) => h.result(dropHealed(r, tail)));
    });
  }

  /** Fill the hole between `req.prefix` and `req.suffix` (diffusion models only). */
  infill(req: InfillTextRequest, onEvent?: (e: GenerationEvent) => void): Promise<GenerationResult> {
    return this.run(req, onEvent, (model, codec, hooks) => {
      if (model.config.kind !== 'diffusion') throw new RequestError('infill needs a diffusion model; the loaded model is autoregressive');
      checkText(req.prefix, 'prefix');
      checkText(req.suffix, 'suffix');
      const [head, tail] = healWhitespace(req.prefix);
      const keptPrefix = keepEnd(head, model.config.max_seq_len, req.truncate);
      const keptSuffix = keepStart(req.suffix, model.config.max_seq_len, req.truncate);
      const prefix = codec.encode(keptPrefix.text);
      const suffix = codec.encode(keptSuffix.text);
      const tokens = { ...knobsOf(req), prefix, suffix, ...infillTextKnobs(tail, keptSuffix.cut, req.fillBeginsLine) };
      const h = withDroppedChars(withStop(hooks, req.stopAt, req.prefix, tail), codec, prefix, keptPrefix.cut, suffix, keptSuffix.cut);
      return infill(model as DiffusionModel, tokens, h.hooks).then((r) => h.result(dropHealed(r, tail)));
    });
  }

  /** Stop run `requestId` (running: within one step; queued: before it starts). Unknown ids: no-op. */
  cancel(requestId: string): void {
    this.live.get(requestId)?.abort();
  }

  private async run(
    req: { requestId: string; modelId?: string; syntaxCheck?: boolean },
    onEvent: ((e: GenerationEvent) => void) | undefined,
    start: (model: DiffusionModel | AutoregressiveModel, codec: TextCodec, hooks: SamplerHooks) => Promise<SampleResult>,
  ): Promise<GenerationResult> {
    const { requestId } = req;
    if (typeof requestId !== 'string' || requestId === '') throw new RequestError('requestId must be a non-empty string');
    if (this.live.has(requestId)) throw new RequestError(`requestId "${requestId}" is already running`);
    const controller = new AbortController();
    this.live.set(requestId, controller);
    const previous = this.tail;
    const mine = (async () => {
      await previous.catch(() => {}); // one run at a time on the device
      const { model, codec, id } = this.pick(req.modelId);
      const text = (id: number) => (codec.tokenText ? codec.tokenText(id) : codec.decode([id]));
      const result = await start(model, codec, {
        signal: controller.signal,
        decode: decoderOf(codec),
        // the Python syntax check between steps, when asked for (SamplerKnobs.syntaxCheck)
        ...(req.syntaxCheck ? { syntax: pythonSyntaxError, tail: pythonTail } : {}),
        onStart: (layout) => onEvent?.({ type: 'start', requestId, layout, pieces: layout.tokens.map(text) }),
        onStep: (step) => onEvent?.({ type: 'step', requestId, step, pieces: step.changes.map((c) => text(c.token)) }),
      });
      return { ...result, requestId, text: result.text ?? '', modelKind: model.config.kind, modelId: id };
    })();
    this.tail = mine;
    try {
      return await mine;
    } finally {
      this.live.delete(requestId);
    }
  }
}

/**
 * Most characters one token can stand for, as far as cutting goes: a text longer than the context
 * times this cannot fit whole, so only its end (prompt, prefix) or start (suffix) is tokenized.
 * Tokenizing a 1 MB paste takes seconds (BPE); the model would see 128-512 tokens of it anyway.
 * A token longer than this only means a little less context, never a wrong result.
 */
export const MAX_CHARS_PER_TOKEN = 64;

/** With `truncate`, the end of `text` that can still fit `maxSeqLen` tokens; `cut`: characters left out. */
export function keepEnd(text: string, maxSeqLen: number, truncate: boolean | undefined): { text: string; cut: number } {
  const max = maxSeqLen * MAX_CHARS_PER_TOKEN;
  if (!truncate || text.length <= max) return { text, cut: 0 };
  let from = text.length - max;
  // Never split a surrogate pair (the half left over would become U+FFFD).
  if (isLowSurrogate(text.charCodeAt(from))) from++;
  return { text: text.slice(from), cut: from };
}

/** With `truncate`, the start of `text` that can still fit `maxSeqLen` tokens. */
export function keepStart(text: string, maxSeqLen: number, truncate: boolean | undefined): { text: string; cut: number } {
  const max = maxSeqLen * MAX_CHARS_PER_TOKEN;
  if (!truncate || text.length <= max) return { text, cut: 0 };
  let to = max;
  if (isLowSurrogate(text.charCodeAt(to))) to--;
  return { text: text.slice(0, to), cut: text.length - to };
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

function checkText(v: unknown, what: string): void {
  if (typeof v !== 'string') throw new RequestError(`${what} must be a string, got ${v === null ? 'null' : typeof v}`);
}

/**
 * The run's layout with the characters outside the canvas counted (what the UI shows as "trimmed"):
 * the text of the tokens the sampler dropped plus what was cut before tokenizing.
 */
function withDroppedChars(hooks: SamplerHooks, codec: TextCodec, prefix: number[], prefixCut: number, suffix: number[], suffixCut: number) {
  const count = <T extends { droppedPrefix: number; droppedSuffix: number }>(l: T): T => ({
    ...l,
    droppedPrefixChars: prefixCut + (l.droppedPrefix > 0 ? codec.decode(prefix.slice(0, l.droppedPrefix)).length : 0),
    droppedSuffixChars: suffixCut + (l.droppedSuffix > 0 ? codec.decode(suffix.slice(suffix.length - l.droppedSuffix)).length : 0),
  });
  return {
    hooks: { ...hooks, onStart: (layout: CanvasLayout) => hooks.onStart?.(count(layout)) },
    result: (r: SampleResult): SampleResult => ({ ...r, layout: count(r.layout) }),
  };
}

/**
 * Whitespace token healing. The tokenizer joins a newline with the indentation after it (and a
 * space with the word after it) into one token, so text that ends in white space ends in a token
 * the model rarely saw in that place ("\n" alone before an indented line). Cut trailing white
 * space off the prompt/prefix; the model writes it back as the tokens it knows.
 * Returns [text without trailing white space, the white space]; nothing is cut when the text is
 * only white space.
 */
export function healWhitespace(text: string): [string, string] {
  const head = text.replace(/[ \t\r\n\f\v]+$/, '');
  return head === '' ? [text, ''] : [head, text.slice(head.length)];
}

/**
 * What a text infill request's cut text says to the sampler: a suffix cut here (`suffixCut`
 * characters) no longer ends the text (suffixEndsText off); a prefix whose healed white space
 * `prefixTail` ends with a line break ends a line, so the hole begins one (fillBeginsLine on: a
 * Fill of whole lines), unless the request said (`asked`: its own fillBeginsLine stands). Not when
 * indentation follows the break: the caller kept that depth, and a fill beginning another line
 * there would leave it as a line of its own.
 */
export function infillTextKnobs(prefixTail: string, suffixCut: number, asked?: boolean): Pick<SamplerKnobs, 'suffixEndsText' | 'fillBeginsLine'> {
  return { ...(suffixCut > 0 ? { suffixEndsText: false } : {}), ...(asked === undefined && prefixTail.endsWith('\n') ? { fillBeginsLine: true } : {}) };
}

/** Generated `text` as if the prompt had kept its white space `tail`: drop it where the model wrote it back. */
function afterHealed(text: string, tail: string): string {
  if (!tail) return text;
  if (text.startsWith(tail)) return text.slice(tail.length);
  // The model went another way (e.g. a newline where the prompt had indentation): keep its text
  // after the prompt's white space, minus a repeated newline at the start.
  return tail.endsWith('\n') ? text.replace(/^\n/, '') : text;
}

/** The result with its text after the prompt's own white space (afterHealed). */
function dropHealed(result: SampleResult, tail: string): SampleResult {
  return result.text === undefined ? result : { ...result, text: afterHealed(result.text, tail) };
}

/**
 * hooks.stop for SamplerKnobs.stopAt, on the text as the caller will get it (after the prompt's
 * own white space `tail`, at the cursor whose line left of it ends `before`); none without it.
 */
function withStop(hooks: SamplerHooks, stopAt: StopAt | undefined, before: string, tail: string): SamplerHooks {
  if (stopAt === undefined) return hooks;
  if (stopAt !== 'line' && stopAt !== 'block') throw new RequestError(`stopAt must be 'line' or 'block' (or absent: decode the whole span), got ${String(stopAt)}`);
  const lineBefore = before.slice(before.lastIndexOf('\n') + 1);
  // (while the text is still the prompt's white space written back, e.g. "\n   " of "\n    ",
  // nothing is written after the cursor yet: afterHealed would take that "\n" for the model's)
  return { ...hooks, stop: (text) => !tail.startsWith(text) && reachedStop(afterHealed(text, tail), lineBefore, stopAt) };
}

/** The sampler knobs of a text request (everything but the id and the text). */
function knobsOf(req: SamplerKnobs & { requestId: string; modelId?: string; prompt?: string; prefix?: string; suffix?: string }): SamplerKnobs {
  const { requestId, modelId, prompt, prefix, suffix, ...knobs } = req;
  void [requestId, modelId, prompt, prefix, suffix];
  return knobs;
}

const decoders = new WeakMap<TextCodec, (ids: number[]) => string>();
/** One decode function per codec (the syntax gate keeps token texts by it across runs). */
function decoderOf(codec: TextCodec): (ids: number[]) => string {
  let d = decoders.get(codec);
  if (!d) decoders.set(codec, (d = (ids) => codec.decode(ids)));
  return d;
}
