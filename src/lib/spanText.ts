// The generated span as text while a run streams: the worker sends display pieces with its start
// and step events (src/protocol.ts), so a page can show the denoising without a tokenizer.
// Pure and DOM-free (unit-tested).

import type { GenerationEvent } from '../protocol';

/** What a page sees of the span after the start event and after each step. */
export interface SpanView {
  /** The span's committed text so far, each still-masked position shown as `maskText`. */
  text: string;
  /** Positions of the span still masked. */
  masked: number;
  /** Positions in the span (the request's genLength, after truncation). */
  length: number;
}

/**
 * Folds a run's events into the span's text. Pieces of special tokens are '' (eos/pad end the
 * text), so a finished span's text is the run's result text.
 */
export class SpanText {
  private pieces: string[] = [];
  private masked: boolean[] = [];
  private start = 0;
  private end = 0;

  constructor(private readonly maskText = '\u2591') {}

  /** Apply one event; returns the span's view after it. */
  apply(e: GenerationEvent): SpanView {
    if (e.type === 'start') {
      this.start = e.layout.spanStart;
      this.end = e.layout.spanEnd;
      this.pieces = e.layout.tokens.slice(this.start, this.end).map((_, i) => e.pieces[this.start + i] ?? '');
      this.masked = this.pieces.map(() => true);
    } else {
      e.step.changes.forEach((c, i) => {
        const at = c.position - this.start;
        if (at < 0 || at >= this.end - this.start || c.state === 'masked') return;
        this.masked[at] = c.state === 'revised';
        this.pieces[at] = c.state === 'revised' ? '' : (e.pieces[i] ?? '');
      });
    }
    return this.view();
  }

  view(): SpanView {
    let text = '';
    let masked = 0;
    for (let i = 0; i < this.pieces.length; i++) {
      if (this.masked[i]) {
        masked++;
        text += this.maskText;
      } else text += this.pieces[i];
    }
    return { text, masked, length: this.pieces.length };
  }
}
