// The syntax hook of verified decoding (SamplerHooks.syntax, commitOrder 'verify'): the tokens
// a step would commit are checked as Python before they are committed. When one breaks the
// syntax (an error at or after its first character that no continuation can fix), the tokens
// before it are committed, and at its position the AR head's best other token that keeps the
// syntax (ranked by the logits of that one row: greedy decoding would re-choose the rejected
// token) — or, when none of the next few does, the rejected token after all. Budgets: one
// intervention per step (one extra forward of a single row, a few parses), `maxPerRun` per
// run; every step still commits at least one token, so decoding terminates as before.

import type { DiffusionModel } from '../engine/types';
import type { CanvasLayout, SamplerHooks } from './types';

/** A token the check turned down, at `position`; the token committed there instead is the change's. */
export interface SyntaxRejection {
  position: number;
  token: number;
}

export class SyntaxGate {
  /** Extra forward passes (one row each) spent on alternatives. */
  forwards = 0;
  /** Time spent parsing, ms (the parser's cost per step is this / steps). */
  parseMs = 0;
  parses = 0;
  /** Tokens turned down (each replaced by an alternative that keeps the syntax). */
  rejected = 0;
  private left: number;

  constructor(
    private readonly model: DiffusionModel,
    private readonly layout: CanvasLayout,
    private readonly syntax: NonNullable<SamplerHooks['syntax']>,
    private readonly decode: (ids: number[]) => string,
    private readonly cacheOrder: (upTo: number) => number[],
    /** Interventions allowed in one run. */
    maxPerRun = 16,
    /** Alternatives tried per intervention (the best by logit first). */
    private readonly candidates = 8,
  ) {
    this.left = maxPerRun;
  }

  /** `kept`, the tokens for positions c.., as they may be committed. */
  async gate(canvas: Int32Array, c: number, kept: number[]): Promise<{ kept: number[]; rejected: SyntaxRejection | null }> {
    if (this.left <= 0) return { kept, rejected: null };
    const before = Array.from(canvas.subarray(0, c));
    const starts = kept.map((_, i) => this.decode([...before, ...kept.slice(0, i)]).length);
    const e = this.check(this.decode([...before, ...kept]), starts[0]!);
    if (e < 0) return { kept, rejected: null };
    let m = 0; // the token where the error starts
    while (m + 1 < kept.length && starts[m + 1]! <= e) m++;
    this.left--;
    const prefix = [...before, ...kept.slice(0, m)];
    const position = c + m;
    const rejected = { position, token: kept[m]! };
    for (const t of await this.ranked(canvas, prefix, position, rejected.token)) {
      if (this.check(this.decode([...prefix, t]), starts[m]!) < 0) {
        this.rejected++;
        return { kept: [...kept.slice(0, m), t], rejected };
      }
    }
    return { kept: kept.slice(0, m + 1), rejected: null };
  }

  private check(text: string, from: number): number {
    const t0 = performance.now();
    const e = this.syntax(text, from);
    this.parseMs += performance.now() - t0;
    this.parses++;
    return e;
  }

  /** The AR head's next tokens at `position` after `prefix`, best first, without `exclude` and the specials. */
  private async ranked(canvas: Int32Array, prefix: number[], position: number, exclude: number): Promise<number[]> {
    const { mask } = this.model.config.special_tokens;
    const order = this.cacheOrder(position);
    const view = canvas.slice();
    view.set(prefix.slice(this.layout.spanStart), this.layout.spanStart);
    const logits = await this.model.blockLogits!({
      context: Int32Array.from(order, (p) => view[p]!),
      contextPositions: Int32Array.from(order),
      block: Int32Array.of(mask),
      blockPos0: position,
      offsets: Int32Array.of(0),
    }, false);
    this.forwards++;
    const best: number[] = [];
    for (let i = 0; i < logits.length; i++) {
      if (i === exclude || i === mask) continue;
      best.push(i);
      best.sort((a, b) => logits[b]! - logits[a]!);
      if (best.length > this.candidates) best.pop();
    }
    return best;
  }
}
