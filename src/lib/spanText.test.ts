import { describe, expect, it } from 'vitest';
import type { GenerationEvent } from '../protocol';
import { SpanText } from './spanText';

const start: GenerationEvent = {
  type: 'start',
  requestId: 'r',
  layout: { tokens: [5, 6, 9, 9, 9, 7], spanStart: 2, spanEnd: 5, droppedPrefix: 0, droppedSuffix: 0 },
  pieces: ['de', 'f ', '', '', '', ')'],
};
const step = (changes: { position: number; token: number; state: 'committed' | 'revised' | 'masked' }[], pieces: string[]): GenerationEvent => ({
  type: 'step',
  requestId: 'r',
  step: { step: 0, block: 0, changes: changes.map((c) => ({ ...c, confidence: 1 })), forwardSkipped: false, maskedLeft: 0 },
  pieces,
});

describe('SpanText', () => {
  it('shows the span only, masks as the mask text; commits, revisions and previews', () => {
    const s = new SpanText('_');
    expect(s.apply(start)).toEqual({ text: '___', masked: 3, length: 3 });
    expect(s.apply(step([{ position: 3, token: 1, state: 'committed' }], ['ab']))).toEqual({ text: '_ab_', masked: 2, length: 3 });
    // A preview (still masked) changes nothing; a revision masks again.
    expect(s.apply(step([{ position: 2, token: 2, state: 'masked' }], ['zz'])).text).toBe('_ab_');
    expect(s.apply(step([{ position: 3, token: 9, state: 'revised' }], ['']))).toEqual({ text: '___', masked: 3, length: 3 });
    // Specials (eos/pad) have '' as their piece: the text ends there.
    expect(s.apply(step([{ position: 2, token: 3, state: 'committed' }, { position: 3, token: 4, state: 'committed' }, { position: 4, token: 8, state: 'committed' }], ['x', 'y', '']))).toEqual({ text: 'xy', masked: 0, length: 3 });
  });
});
