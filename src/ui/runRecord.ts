// One generation run as the page records it: the starting canvas, every step event (a small
// delta) with its arrival time, and the result. Any recorded step can be rebuilt as a frame (the
// canvas after that step, with what changed in it) plus the stats up to it, so the live view and
// the timeline render the same thing. Pure data, no React.

import type { CanvasLayout, GenerationEvent, GenerationResult, StepEvent } from '../protocol';

/**
 * How one canvas position looks in a frame:
 * - `fixed`: prompt / prefix / suffix text (never changes);
 * - `masked`: still masked; `revised`: re-masked in this very step (error correction);
 * - `new`: committed in this step; `committed`: committed earlier;
 * - `syntax`: committed in this step in place of the model's token, which broke the syntax or
 *   left the text unable to end cleanly in the span (`reason`);
 * - `end`: an eos/pad token (the span ended).
 */
export type CellState = 'fixed' | 'masked' | 'revised' | 'new' | 'syntax' | 'committed' | 'end';

export interface Cell {
  position: number;
  token: number;
  /** Display text ('' for masks and special tokens). */
  text: string;
  state: CellState;
  /** Confidence of the decision that placed the token (1 for fixed text), in [0, 1]. */
  confidence: number;
  /** `syntax` cells: why the model's token was turned down (TokenChange.rejectedFor). */
  reason?: 'error' | 'end';
}

export interface FrameStats {
  /** Steps done in this frame (0 = the starting canvas). */
  step: number;
  /** Steps of the whole run, once it finished (null while it runs). */
  totalSteps: number | null;
  /** Forward passes run up to this step. */
  forwards: number;
  /** Real tokens on the canvas (eos/pad excluded). */
  tokens: number;
  tokensPerStep: number;
  /** Average wall time per step, ms. */
  msPerStep: number;
  tokensPerSecond: number;
  elapsedMs: number;
  /** Span positions still masked. */
  maskedLeft: number;
  /** Re-masks by revision up to this step. */
  revisions: number;
  /** Tokens committed / re-masked in this step. */
  committedNow: number;
  revisedNow: number;
}

export type RunStatus = 'queued' | 'running' | 'done' | 'cancelled' | 'error';

export interface Specials {
  mask: number;
  pad: number;
  eos: number;
}

export class RunRecord {
  status: RunStatus = 'queued';
  layout: CanvasLayout | null = null;
  readonly steps: StepEvent[] = [];
  result: GenerationResult | null = null;
  error: string | null = null;
  /** Ms after the start event at which each step arrived; [0] = 0 (the start). */
  private readonly times: number[] = [0];
  private readonly snapshots: Int32Array[] = [];
  private readonly confidences: Float32Array[] = [];
  private readonly forwardsAt: number[] = [0];
  private readonly tokensAt: number[] = [];
  private readonly revisionsAt: number[] = [0];
  private readonly maskedAt: number[] = [];
  private readonly pieces = new Map<number, string>();
  private t0 = 0;

  constructor(
    readonly requestId: string,
    readonly kind: 'generate' | 'infill',
    readonly modelId: string,
    readonly specials: Specials,
    /** The request's knobs, for display (steps planned, strategy). */
    readonly plannedSteps: number | null = null,
  ) {}

  /** Number of recorded steps (frames are 0..stepCount). */
  get stepCount(): number {
    return this.steps.length;
  }

  get finished(): boolean {
    return this.status === 'done' || this.status === 'cancelled' || this.status === 'error';
  }

  onEvent(e: GenerationEvent, now: number): void {
    if (e.type === 'start') {
      this.t0 = now;
      this.status = 'running';
      this.layout = e.layout;
      e.layout.tokens.forEach((t, i) => this.learn(t, e.pieces[i]));
      const tokens = Int32Array.from(e.layout.tokens);
      const conf = new Float32Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) conf[i] = this.inSpan(i) ? 0 : 1;
      this.snapshots.push(tokens);
      this.confidences.push(conf);
      this.tokensAt.push(this.countTokens(tokens));
      this.maskedAt.push(this.countMasked(tokens));
      return;
    }
    if (!this.layout) return;
    const prevTokens = this.snapshots[this.snapshots.length - 1]!;
    const tokens = prevTokens.slice();
    const conf = this.confidences[this.confidences.length - 1]!.slice();
    let revised = 0;
    e.step.changes.forEach((c, i) => {
      this.learn(c.token, e.pieces[i]);
      if (c.state === 'masked') return;
      tokens[c.position] = c.token;
      conf[c.position] = c.state === 'revised' ? 0 : c.confidence;
      if (c.state === 'revised') revised++;
    });
    this.steps.push(e.step);
    this.times.push(now - this.t0);
    this.snapshots.push(tokens);
    this.confidences.push(conf);
    this.forwardsAt.push(this.forwardsAt[this.forwardsAt.length - 1]! + (e.step.forwardSkipped ? 0 : 1));
    this.tokensAt.push(this.countTokens(tokens));
    this.revisionsAt.push(this.revisionsAt[this.revisionsAt.length - 1]! + revised);
    this.maskedAt.push(e.step.maskedLeft);
  }

  finish(result: GenerationResult): void {
    this.result = result;
    this.status = 'done';
  }

  fail(error: unknown, cancelled: boolean): void {
    this.status = cancelled ? 'cancelled' : 'error';
    this.error = error instanceof Error ? error.message : String(error);
  }

  /** The canvas after `frame` steps, clamped to what was recorded. */
  cells(frame: number): Cell[] {
    if (!this.layout || this.snapshots.length === 0) return [];
    const f = this.clamp(frame);
    const tokens = this.snapshots[f]!;
    const conf = this.confidences[f]!;
    const changed = new Map<number, 'new' | 'syntax' | 'revised'>();
    const reasons = new Map<number, 'error' | 'end'>();
    if (f > 0) {
      for (const c of this.steps[f - 1]!.changes) {
        if (c.state === 'committed') {
          changed.set(c.position, c.rejected !== undefined ? 'syntax' : 'new');
          if (c.rejected !== undefined) reasons.set(c.position, c.rejectedFor ?? 'error');
        } else if (c.state === 'revised') changed.set(c.position, 'revised');
      }
    }
    const cells: Cell[] = new Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      let state: CellState;
      if (!this.inSpan(i)) state = 'fixed';
      else if (token === this.specials.mask) state = changed.get(i) === 'revised' ? 'revised' : 'masked';
      else if (token === this.specials.eos || token === this.specials.pad) state = 'end';
      else state = changed.get(i) === 'new' || changed.get(i) === 'syntax' ? changed.get(i) as 'new' | 'syntax' : 'committed';
      cells[i] = { position: i, token, text: state === 'masked' || state === 'revised' ? '' : (this.pieces.get(token) ?? ''), state, confidence: conf[i]! };
      if (state === 'syntax') cells[i]!.reason = reasons.get(i);
    }
    return cells;
  }

  /** The generated (or infilled) text after `frame` steps: committed tokens only, up to the first eos/pad. */
  spanText(frame: number): string {
    if (!this.layout) return '';
    const tokens = this.snapshots[this.clamp(frame)]!;
    let out = '';
    for (let i = this.layout.spanStart; i < this.layout.spanEnd; i++) {
      const t = tokens[i]!;
      if (t === this.specials.eos || t === this.specials.pad) break;
      if (t !== this.specials.mask) out += this.pieces.get(t) ?? '';
    }
    return out;
  }

  stats(frame: number): FrameStats {
    const f = this.clamp(frame);
    const last = f === this.stepCount && this.result !== null;
    const elapsedMs = last ? this.result!.stats.ms : (this.times[f] ?? 0);
    const tokens = this.tokensAt[f] ?? 0;
    const step = f;
    const forwards = last ? this.result!.stats.forwards : (this.forwardsAt[f] ?? 0);
    let committedNow = 0;
    let revisedNow = 0;
    if (f > 0) {
      for (const c of this.steps[f - 1]!.changes) {
        if (c.state === 'committed') committedNow++;
        else if (c.state === 'revised') revisedNow++;
      }
    }
    return {
      step,
      totalSteps: this.finished && this.status === 'done' ? this.stepCount : null,
      forwards,
      tokens,
      tokensPerStep: step > 0 ? tokens / step : 0,
      msPerStep: step > 0 ? elapsedMs / step : 0,
      tokensPerSecond: last ? this.result!.stats.tokensPerSecond : elapsedMs > 0 ? (tokens * 1000) / elapsedMs : 0,
      elapsedMs,
      maskedLeft: this.maskedAt[f] ?? 0,
      revisions: this.revisionsAt[f] ?? 0,
      committedNow,
      revisedNow,
    };
  }

  private clamp(frame: number): number {
    return Math.max(0, Math.min(Math.round(frame), this.snapshots.length - 1));
  }

  private inSpan(i: number): boolean {
    return !!this.layout && i >= this.layout.spanStart && i < this.layout.spanEnd;
  }

  private learn(token: number, piece: string | undefined): void {
    if (piece !== undefined && !this.pieces.has(token)) this.pieces.set(token, piece);
  }

  private countTokens(tokens: Int32Array): number {
    if (!this.layout) return 0;
    let n = 0;
    for (let i = this.layout.spanStart; i < this.layout.spanEnd; i++) {
      const t = tokens[i]!;
      if (t === this.specials.eos || t === this.specials.pad) break;
      if (t !== this.specials.mask) n++;
    }
    return n;
  }

  private countMasked(tokens: Int32Array): number {
    if (!this.layout) return 0;
    let n = 0;
    for (let i = this.layout.spanStart; i < this.layout.spanEnd; i++) if (tokens[i] === this.specials.mask) n++;
    return n;
  }
}
