// The whole canvas at one step: fixed text dimmed, still-masked positions as placeholder blocks,
// tokens committed in this step highlighted, tokens re-masked in this step (revision) marked,
// and each generated token's confidence shown as its intensity.

import { memo, useLayoutEffect, useRef, type CSSProperties } from 'react';
import type { Cell } from './runRecord';

export interface CanvasViewProps {
  cells: Cell[];
  step: number;
  /** data-testid of the canvas element (the Race lanes have one each). */
  testId?: string;
  label: string;
  /** Tokens of context dropped to fit the model (shown as a marker where they were). */
  droppedPrefix?: number;
  droppedSuffix?: number;
}

/** Lines of the text before the span kept in view above it. */
const CONTEXT_LINES = 3;

export const CanvasView = memo(function CanvasView({ cells, step, testId = 'canvas', label, droppedPrefix = 0, droppedSuffix = 0 }: CanvasViewProps) {
  let masked = 0;
  for (const c of cells) if (c.state === 'masked' || c.state === 'revised') masked++;
  // the generated span's first position: a run opens scrolled to it (a long prompt would push it
  // out of view), once per run, so the user's own scrolling and scrubbing are left alone
  const spanStart = cells.find((c) => c.state !== 'fixed')?.position ?? -1;
  const scroller = useRef<HTMLDivElement>(null);
  const shown = useRef('');
  useLayoutEffect(() => {
    const box = scroller.current;
    const run = `${spanStart}:${cells.length}`;
    if (!box || spanStart < 0 || shown.current === run || box.clientHeight === 0) return; // (not laid out yet: a later render)
    const first = box.querySelector<HTMLElement>(`[data-position="${spanStart}"]`);
    if (!first) return;
    const line = parseFloat(getComputedStyle(first).lineHeight) || 20;
    const target = Math.max(0, first.offsetTop - CONTEXT_LINES * line);
    box.scrollTop = target;
    // done once the box could scroll there (a canvas still growing may not reach it yet)
    if (Math.abs(box.scrollTop - target) <= 1) shown.current = run;
  });
  return (
    <div className="canvas-scroll" ref={scroller} data-testid={`${testId}-scroll`}>
      <pre className="canvas" data-testid={testId} data-step={step} data-masked={masked} aria-label={`${label}, step ${step}, ${masked} positions still masked`}>
        {droppedPrefix > 0 ? <span className="cell-dropped" title={`${droppedPrefix} earlier tokens do not fit the model's context`}>… </span> : null}
        {cells.map((c) => (
          <CellView key={c.position} cell={c} />
        ))}
        {droppedSuffix > 0 ? <span className="cell-dropped" title={`${droppedSuffix} later tokens do not fit the model's context`}> …</span> : null}
      </pre>
    </div>
  );
});

function CellView({ cell }: { cell: Cell }) {
  switch (cell.state) {
    case 'masked':
      return <span className="cell cell-masked" data-position={cell.position} title={`position ${cell.position}: masked`} />;
    case 'revised':
      return <span className="cell cell-masked cell-revised" data-position={cell.position} title={`position ${cell.position}: re-masked this step (revision)`} />;
    case 'end':
      return <span className="cell cell-end" data-position={cell.position} title={`position ${cell.position}: end of text`} />;
    case 'fixed':
      return <span className="cell cell-fixed">{cell.text}</span>;
    case 'syntax':
      return (
        <span className="cell cell-new cell-syntax" data-position={cell.position} style={{ '--c': cell.confidence.toFixed(3) } as CSSProperties} title={`position ${cell.position}: ${JSON.stringify(cell.text)}, chosen this step in place of the model's token, ${cell.reason === 'end' ? 'after which the code could not have ended within the span' : 'which broke the Python syntax'}`}>
          {cell.text}
        </span>
      );
    default: {
      const nl = cell.text.includes('\n');
      const pct = Math.round(cell.confidence * 100);
      return (
        <span
          data-position={cell.position}
          className={`cell cell-${cell.state}${nl ? ' cell-nl' : ''}${cell.text.trim() === '' ? ' cell-space' : ''}`}
          style={{ '--c': cell.confidence.toFixed(3) } as CSSProperties}
          title={`position ${cell.position}: ${JSON.stringify(cell.text)}, confidence ${pct}%`}
        >
          {cell.text}
        </span>
      );
    }
  }
}

/** Key to the canvas colours. */
export function CanvasLegend() {
  return (
    <div className="legend" aria-hidden="true">
      <span><span className="cell cell-masked" /> masked</span>
      <span><span className="cell cell-new" style={{ '--c': 1 } as CSSProperties}>ab</span> new this step</span>
      <span><span className="cell cell-masked cell-revised" /> re-masked</span>
      <span><span className="cell cell-new cell-syntax" style={{ '--c': 1 } as CSSProperties}>ab</span> re-chosen for syntax</span>
      <span className="legend-ramp">
        confidence <span className="cell cell-committed" style={{ '--c': 0.1 } as CSSProperties}>low</span>
        <span className="cell cell-committed" style={{ '--c': 1 } as CSSProperties}>high</span>
      </span>
    </div>
  );
}
