// The editor's draft in localStorage: round trip, junk, a refusing storage, debounced saving.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DRAFT_KEY, DraftSaver, loadDraft, restoreDraft, saveDraft, type DraftState } from './draft';

function memoryStorage(limitChars = Infinity) {
  const m = new Map<string, string>();
  return {
    m,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => {
      if (v.length > limitChars) {
        const e = new Error('The quota has been exceeded.');
        e.name = 'QuotaExceededError';
        throw e;
      }
      m.set(k, v);
    },
  };
}

describe('draft', () => {
  it('round-trips any text, NUL, lone surrogates and all', () => {
    const st = memoryStorage();
    expect(loadDraft(st)).toBeNull();
    const text = 'def f():\n\treturn "\u0000 \ud800 \u05e9\u05dc\u05d5\u05dd e\u0301 😀"\r\n';
    expect(saveDraft(st, text)).toEqual({ status: 'saved' });
    expect(loadDraft(st)).toBe(text);
    expect(saveDraft(st, '')).toEqual({ status: 'saved' });
    expect(loadDraft(st)).toBe('');
  });

  it('reads junk, a wrong shape or no storage as "no draft"', () => {
    const st = memoryStorage();
    st.m.set(DRAFT_KEY, '{broken');
    expect(loadDraft(st)).toBeNull();
    st.m.set(DRAFT_KEY, JSON.stringify({ text: 42 }));
    expect(loadDraft(st)).toBeNull();
    expect(loadDraft(undefined)).toBeNull();
  });

  it('a full quota is a failed state with the reason, and the previous draft stays', () => {
    const st = memoryStorage(100);
    expect(saveDraft(st, 'small')).toEqual({ status: 'saved' });
    const s = saveDraft(st, 'x'.repeat(1000));
    expect(s.status).toBe('failed');
    expect(s.status === 'failed' && s.reason).toContain('1,000 characters');
    expect(loadDraft(st)).toBe('small');
    expect(saveDraft(undefined, 'x').status).toBe('failed');
  });

  describe('DraftSaver', () => {
    beforeEach(() => void vi.useFakeTimers());
    afterEach(() => void vi.useRealTimers());

    it('writes once after a burst of changes, with the latest text', () => {
      const st = memoryStorage();
      let text = '';
      const states: DraftState['status'][] = [];
      const saver = new DraftSaver({ shared: st }, () => text, (s) => states.push(s.status), 300);
      for (const c of 'hello') {
        text += c;
        saver.schedule();
        vi.advanceTimersByTime(100);
      }
      expect(loadDraft(st)).toBeNull();
      vi.advanceTimersByTime(300);
      expect(loadDraft(st)).toBe('hello');
      expect(states).toEqual(['pending', 'saved']);
    });

    it('flush() writes a pending change at once; without one it writes nothing', () => {
      const st = memoryStorage();
      let text = 'a';
      const saver = new DraftSaver({ shared: st }, () => text, undefined, 300);
      saver.flush();
      expect(loadDraft(st)).toBeNull();
      saver.schedule();
      text = 'ab';
      saver.flush();
      expect(loadDraft(st)).toBe('ab');
    });
  });

  it("two tabs: each restores its own text on a reload; a new tab gets the last one saved", () => {
    vi.useFakeTimers();
    try {
      const shared = memoryStorage();
      const tabA = memoryStorage();
      const tabB = memoryStorage();
      let a = 'text of tab A';
      let b = 'text of tab B';
      const saverA = new DraftSaver({ tab: tabA, shared }, () => a, undefined, 10);
      const saverB = new DraftSaver({ tab: tabB, shared }, () => b, undefined, 10);
      saverA.schedule();
      vi.advanceTimersByTime(20);
      saverB.schedule();
      vi.advanceTimersByTime(20);
      expect(restoreDraft({ tab: tabA, shared })).toBe('text of tab A');
      expect(restoreDraft({ tab: tabB, shared })).toBe('text of tab B');
      expect(restoreDraft({ tab: memoryStorage(), shared })).toBe('text of tab B');
      a = 'A again';
      saverA.schedule();
      saverA.flush();
      expect(restoreDraft({ tab: memoryStorage(), shared })).toBe('A again');
      void b;
    } finally {
      vi.useRealTimers();
    }
  });
});
