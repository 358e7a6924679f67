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
      const tokens = { ...knobsOf(req), prompt: codec.encode(req.prompt) };
      return model.config.kind === 'diffusion'
        ? generate(model as DiffusionModel, tokens, hooks)
        : generateAutoregressive(model as AutoregressiveModel, tokens, hooks);
    });
  }

  /** Fill the hole between `req.prefix` and `req.suffix` (diffusion models only). */
  infill(req: InfillTextRequest, onEvent?: (e: GenerationEvent) => void): Promise<GenerationResult> {
    return this.run(req, onEvent, (model, codec, hooks) => {
      if (model.config.kind !== 'diffusion') throw new RequestError('infill needs a diffusion model; the loaded model is autoregressive');
      const tokens = { ...knobsOf(req), prefix: codec.encode(req.prefix), suffix: codec.encode(req.suffix) };
      return infill(model as DiffusionModel, tokens, hooks);
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

/** The sampler knobs of a text request (everything but the id and the text). */
function knobsOf(req: SamplerKnobs & { requestId: string; modelId?: string; prompt?: string; prefix?: string; suffix?: string }): SamplerKnobs {
  const { requestId, modelId, prompt, prefix, suffix, ...knobs } = req;
  void [requestId, modelId, prompt, prefix, suffix];
  return knobs;
}
