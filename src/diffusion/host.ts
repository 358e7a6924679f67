// The sampler's side of the worker: text in, text out, one run at a time, cancellable by request
// id. src/worker/worker.ts holds one SamplerHost; loadModel() hands it the model and tokenizer.

import type { AutoregressiveModel, DiffusionModel } from '../engine/types';
import { generateAutoregressive } from './autoregressive';
import { RequestError } from './request';
import { generate, infill } from './sampler';
import type { GenerateTextRequest, GenerationEvent, GenerationResult, InfillTextRequest, SampleResult, SamplerHooks, SamplerKnobs } from './types';

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
      const [head, tail] = healWhitespace(req.prompt);
      const tokens = { ...knobsOf(req), prompt: codec.encode(head) };
      const run = model.config.kind === 'diffusion'
        ? generate(model as DiffusionModel, tokens, hooks)
        : generateAutoregressive(model as AutoregressiveModel, tokens, hooks);
      return run.then((r) => dropHealed(r, tail));
    });
  }

  /** Fill the hole between `req.prefix` and `req.suffix` (diffusion models only). */
  infill(req: InfillTextRequest, onEvent?: (e: GenerationEvent) => void): Promise<GenerationResult> {
    return this.run(req, onEvent, (model, codec, hooks) => {
      if (model.config.kind !== 'diffusion') throw new RequestError('infill needs a diffusion model; the loaded model is autoregressive');
      const [head, tail] = healWhitespace(req.prefix);
      const tokens = { ...knobsOf(req), prefix: codec.encode(head), suffix: codec.encode(req.suffix) };
      return infill(model as DiffusionModel, tokens, hooks).then((r) => dropHealed(r, tail));
    });
  }

  /** Stop run `requestId` (running: within one step; queued: before it starts). Unknown ids: no-op. */
  cancel(requestId: string): void {
    this.live.get(requestId)?.abort();
  }

  private async run(
    req: { requestId: string; modelId?: string },
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
        decode: (ids) => codec.decode(ids),
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

/** The result text as if the prompt had kept its white space: drop it where the model wrote it back. */
function dropHealed(result: SampleResult, tail: string): SampleResult {
  if (!tail || result.text === undefined) return result;
  if (result.text.startsWith(tail)) return { ...result, text: result.text.slice(tail.length) };
  // The model went another way (e.g. a newline where the prompt had indentation): keep its text
  // after the prompt's white space, minus a repeated newline at the start.
  return { ...result, text: tail.endsWith('\n') ? result.text.replace(/^\n/, '') : result.text };
}

/** The sampler knobs of a text request (everything but the id and the text). */
function knobsOf(req: SamplerKnobs & { requestId: string; modelId?: string; prompt?: string; prefix?: string; suffix?: string }): SamplerKnobs {
  const { requestId, modelId, prompt, prefix, suffix, ...knobs } = req;
  void [requestId, modelId, prompt, prefix, suffix];
  return knobs;
}
