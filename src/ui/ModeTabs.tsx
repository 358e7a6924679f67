// Generate | Race switch (a tab list; arrow keys move between tabs).

import type { KeyboardEvent } from 'react';

export type Mode = 'generate' | 'race';

const MODES: { value: Mode; label: string }[] = [
  { value: 'generate', label: 'Generate' },
  { value: 'race', label: 'Race' },
];

export function ModeTabs({ mode, onMode }: { mode: Mode; onMode: (m: Mode) => void }) {
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const i = MODES.findIndex((m) => m.value === mode);
    const next = MODES[(i + (e.key === 'ArrowRight' ? 1 : MODES.length - 1)) % MODES.length]!;
    onMode(next.value);
    (e.currentTarget.querySelector(`[data-mode="${next.value}"]`) as HTMLElement | null)?.focus();
  };
  return (
    <div className="mode-tabs" role="tablist" aria-label="Mode" onKeyDown={onKeyDown}>
      {MODES.map((m) => (
        <button
          key={m.value}
          type="button"
          role="tab"
          aria-selected={mode === m.value}
          tabIndex={mode === m.value ? 0 : -1}
          className={mode === m.value ? 'is-on' : ''}
          onClick={() => onMode(m.value)}
          data-mode={m.value}
          data-testid={`mode-${m.value}`}
        >
          {m.label}
        </button>
      ))}
    </div>
  );
}
