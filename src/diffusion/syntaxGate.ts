// The syntax hook of verified decoding (SamplerHooks.syntax, commitOrder 'verify'): the tokens
// a step would commit are checked as Python before they are committed, for two things:
//  - an error: a token that puts a syntax error at or after its first character that no
//    continuation can fix (hooks.syntax, lezer);
//  - the end: a token after which the text can no longer be ended cleanly in the span's tokens
//    left (hooks.tail: an open string, brackets, a block without a body need that many tokens;
//    only without a suffix, which may close them itself). An end-of-text token must leave
//    nothing open.
// From the first such token on, the step commits the tokens before it and, at its position, the
// AR head's best other token that passes both (ranked by the logits of that one row: greedy
// decoding would re-choose the rejected token). For an error, when none of the next few does, the
// rejected token after all; for the end, of the 64 best the token that leaves the least open. Budgets: one
// intervention per step (one extra forward of a single row, a few parses), `maxPerRun` error
// interventions per run; every step still commits at least one token, so decoding terminates.

import type { DiffusionModel } from '../engine/types';
import type { CanvasLayout, SamplerHooks, TextTail } from './types';
import { pieceOf, topK } from './runtime';

/** A token the check turned down, at `position`; the token committed there instead is the change's. */
export interface SyntaxRejection {
  position: number;
  token: number;
  /** It broke the syntax, or the text could not have ended within the span after it. */
  reason: 'error' | 'end';
}


export class SyntaxGate {
  /** Extra forward passes (one row each) spent on alternatives. */
  forwards = 0;
  /** Time spent parsing, ms (the parser's cost per step is this / steps). */
  parseMs = 0;
  parses = 0;
  /** Tokens turned down (each replaced by an alternative that keeps the syntax). */
  rejected = 0;
  /** Of those, turned down so that the text can still end cleanly within the span. */
  forEnd = 0;
  private left: number;
  private readonly endRule: boolean;

  constructor(
    private readonly model: DiffusionModel,
    private readonly layout: CanvasLayout,
    private readonly syntax: NonNullable<SamplerHooks['syntax']>,
    private readonly decode: (ids: number[]) => string,
    private readonly cacheOrder: (upTo: number) => number[],
    private readonly tail?: (text: string) => TextTail,
    /** Error interventions allowed in one run. */
    maxPerRun = 16,
    /** Alternatives parsed per intervention (the best by logit first). */
    private readonly candidates = 8,
  ) {
    this.left = maxPerRun;
    this.endRule = tail !== undefined && layout.spanEnd === layout.tokens.length; // no suffix
  }

  /** `kept`, the tokens for positions c.., as they may be committed. */
  async gate(canvas: Int32Array, c: number, kept: number[]): Promise<{ kept: number[]; rejected: SyntaxRejection | null }> {
    if (this.left <= 0 && !this.endRule) return { kept, rejected: null };
    const { eos, pad } = this.model.config.special_tokens;
    const isEnd = (t: number) => t === eos || t === pad;
    const stop = kept.findIndex(isEnd);
    if (stop >= 0) kept = kept.slice(0, stop + 1); // the span ends there: nothing after it is committed
    const before = Array.from(canvas.subarray(0, c));
    // texts[i]: the text with kept[0 .. i) committed
    const texts = kept.map((_, i) => this.decode([...before, ...kept.slice(0, i)]));
    texts.push(this.decode([...before, ...kept]));
    let m = kept.length; // the first token turned down
    let forEnd = false;
    if (this.left > 0) {
      const e = this.check(texts[kept.length]!, texts[0]!.length);
      if (e >= 0) {
        m = 0;
        while (m + 1 < kept.length && texts[m + 1]!.length <= e) m++;
      }
    }
    // tails[i]: what texts[i] needs to end; not checked when the text before these tokens can
    // no longer end within the span already (a prompt that cannot, say): no token could help
    const tails: TextTail[] = this.endRule ? [this.tail!(texts[0]!)] : [];
    const endChecked = tails.length > 0 && tails[0]!.cost <= this.layout.spanEnd - c;
    if (endChecked) {
      for (let i = 0; i < m; i++) {
        const next = tails[i]!.after(texts[i + 1]!.slice(texts[i]!.length));
        if (!this.fits(isEnd(kept[i]!) ? tails[i]! : next, isEnd(kept[i]!), c + i)) {
          m = i;
          forEnd = true;
          break;
        }
        tails.push(next);
      }
    }
    if (m === kept.length) return { kept, rejected: null };
    if (!forEnd) this.left--;
    const prefix = [...before, ...kept.slice(0, m)];
    const position = c + m;
    const rejected: SyntaxRejection = { position, token: kept[m]!, reason: forEnd ? 'end' : 'error' };
    const { best, fallback } = await this.alternatives(canvas, prefix, position, rejected.token, endChecked ? tails[m]! : null, forEnd ? 4 * this.candidates : this.candidates);
    for (const t of best) {
      if (this.check(this.decode([...prefix, t]), texts[m]!.length) < 0) {
        this.rejected++;
        if (forEnd) this.forEnd++;
        return { kept: [...kept.slice(0, m), t], rejected };
      }
    }
    if (forEnd && fallback >= 0 && this.check(this.decode([...prefix, fallback]), texts[m]!.length) < 0) {
      this.rejected++;
      this.forEnd++;
      return { kept: [...kept.slice(0, m), fallback], rejected };
    }
    return { kept: kept.slice(0, m + 1), rejected: null };
  }

  /** Whether the text of `tail` followed by token t at `position` can still end cleanly in the span. */
  private fitsAfter(tail: TextTail, t: number, position: number): boolean {
    const { eos, pad } = this.model.config.special_tokens;
    return t === eos || t === pad ? tail.cost <= 0 : tail.costAfter(this.piece(t)) <= this.layout.spanEnd - position - 1;
  }

  /** Whether the text can still end cleanly after a token at `position` (an end token: now). */
  private fits(tail: TextTail, ends: boolean, position: number): boolean {
    return tail.cost <= (ends ? 0 : this.layout.spanEnd - position - 1);
  }

  /** The text of token t alone (kept across runs that share a decode function). */
  private piece(t: number): string {
    return pieceOf(this.decode, t);
  }

  private check(text: string, from: number): number {
    const t0 = performance.now();
    const e = this.syntax(text, from);
    this.parseMs += performance.now() - t0;
    this.parses++;
    return e;
  }

  /**
   * The AR head's next tokens at `position` after `prefix` (without `exclude` and the mask): the
   * `n` best by logit that leave the text able to end within the span (with `tail`), best first,
   * and the one that leaves the least open (the end's fallback, -1 when every one fits).
   */
  private async alternatives(canvas: Int32Array, prefix: number[], position: number, exclude: number, tail: TextTail | null, n: number): Promise<{ best: number[]; fallback: number }> {
    const { mask, eos, pad } = this.model.config.special_tokens;
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
    // the tokens by logit, best first: the top 64 from one pass (the usual case: what fits is
    // among them), the whole vocabulary searched only when none of those fits; the fallback is
    // the one of the 64 that leaves the least open
    const top = topK(logits, 64, (t) => t !== exclude && t !== mask);
    const best: number[] = [];
    let fallback = -1;
    let least = Infinity;
    const scan = (ids: Iterable<number>) => {
      for (const t of ids) {
        if (t !== eos && t !== pad && this.piece(t) === '') continue; // no text (an id past the tokenizer's)
        if (tail && !this.fitsAfter(tail, t, position)) {
          const cost = t === eos || t === pad ? Infinity : tail.costAfter(this.piece(t));
          if (cost < least) [least, fallback] = [cost, t];
          continue;
        }
        best.push(t);
        if (best.length === n) return;
      }
    };
    scan(top);
    if (best.length === 0 && tail) {
      // none of them fits: the best n of the whole vocabulary that do
      const seen = new Set(top);
      scan(topK(logits, n, (t) => t !== exclude && t !== mask && !seen.has(t) && this.fitsAfter(tail, t, position)));
    }
    return { best, fallback };
  }
}
