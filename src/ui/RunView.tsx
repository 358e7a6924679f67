// One run on screen: stats, the canvas at the chosen step, and the timeline to scrub it. Follows
// the newest step while it runs, until the user scrubs (then "live" returns to following).

import { useCallback, useMemo, useState } from 'react';
import { CanvasView } from './CanvasView';
import { formatMs } from './format';
import type { RunHandle } from './runner';
import { RunStats } from './RunStats';
import { Timeline } from './Timeline';

export interface RunViewProps {
  run: RunHandle;
  /** Bumped by the owner whenever the run's record changed (re-render trigger). */
  version: number;
  label: string;
  testPrefix?: string;
}

export function RunView({ run, version, label, testPrefix = '' }: RunViewProps) {
  const rec = run.record;
  const [following, setFollowing] = useState(true);
  const [selected, setSelected] = useState(0);
  const max = rec.stepCount;
  const frame = following ? max : Math.min(selected, max);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const cells = useMemo(() => rec.cells(frame), [rec, frame, version]);
  const stats = rec.stats(frame);
  const onFrame = useCallback(
    (f: number) => {
      setSelected(f);
      setFollowing(false);
    },
    [],
  );
  const onFollow = useCallback(() => setFollowing(true), []);

  return (
    <div className="run-view" data-testid={`${testPrefix}run-view`} data-status={rec.status}>
      <RunStats stats={stats} status={rec.status} plannedSteps={rec.plannedSteps} testPrefix={testPrefix} />
      <CanvasView
        cells={cells}
        step={frame}
        label={label}
        testId={`${testPrefix}canvas`}
        droppedPrefix={rec.layout?.droppedPrefix}
        droppedSuffix={rec.layout?.droppedSuffix}
      />
      <Timeline
        frame={frame}
        maxFrame={max}
        following={following}
        running={!rec.finished}
        onFrame={onFrame}
        onFollow={onFollow}
        testPrefix={testPrefix}
      />
      {run.notice ? (
        <p className="note run-notice" role="status" data-testid="run-notice">
          {run.notice}
        </p>
      ) : null}
      <TrimmedNote run={run} />
      <RunStatusLine run={run} />
    </div>
  );
}

/** Says, while the run is on screen, that part of the text did not fit the model's context. */
function TrimmedNote({ run }: { run: RunHandle }) {
  const l = run.record.layout;
  if (!l) return null;
  const before = l.droppedPrefixChars ?? 0;
  const after = l.droppedSuffixChars ?? 0;
  if (l.droppedPrefix + l.droppedSuffix === 0 && before + after === 0) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [
    before > 0 || l.droppedPrefix > 0 ? `the first ${n(before)} characters of the text before` : '',
    after > 0 || l.droppedSuffix > 0 ? `the last ${n(after)} characters of the text after` : '',
  ].filter(Boolean);
  return (
    <p className="note run-trimmed" role="status" data-testid="run-trimmed" data-dropped-prefix-chars={before} data-dropped-suffix-chars={after}>
      Trimmed to fit the model’s context: {parts.join(' and ')} are not seen by the model (marked … in the canvas).
    </p>
  );
}

function RunStatusLine({ run }: { run: RunHandle }) {
  const rec = run.record;
  let text: string;
  switch (rec.status) {
    case 'queued':
      text = 'waiting for the GPU…';
      break;
    case 'running':
      text = `running · ${rec.stats(rec.stepCount).maskedLeft} positions still masked`;
      break;
    case 'done': {
      const r = rec.result!;
      const dropped = r.layout.droppedPrefix + r.layout.droppedSuffix;
      text = `done in ${formatMs(r.stats.ms)} · ${r.stats.tokensGenerated} tokens${r.finishReason === 'eos' ? ' (ended with end-of-text)' : ''}${r.stats.revisions ? ` · ${r.stats.revisions} re-masked` : ''}${r.stats.skippedForwards ? ` · ${r.stats.skippedForwards} passes reused` : ''}${r.stats.drafts && r.stats.drafts.fromBlock + r.stats.drafts.fromLookup > 0 ? ` · drafts kept: ${r.stats.drafts.fromBlock} from the block, ${r.stats.drafts.fromLookup} copied from the text` : ''}${r.stats.syntax ? ` · syntax check: ${r.stats.syntax.rejected} token${r.stats.syntax.rejected === 1 ? '' : 's'} re-chosen${r.stats.syntax.forEnd ? ` (${r.stats.syntax.forEnd} so the code can end within the span)` : ''}, ${formatMs(r.stats.syntax.parseMs)} parsing` : ''}${r.stats.candidates ? ` · ${r.stats.candidates.chosen > 0 ? 'a fill the likeliest candidates agree on replaced the decoded one' : "the decoded fill is the likeliest candidates' consensus"} (${r.stats.candidates.ranked} candidates ranked in ${r.stats.candidates.forwards} of the ${r.stats.forwards} passes, ${formatMs(r.stats.candidates.ms)})` : ''}${dropped ? ` · ${dropped} context tokens dropped to fit` : ''}`;
      break;
    }
    case 'cancelled':
      text = 'stopped';
      break;
    case 'error':
      text = `failed: ${rec.error}`;
      break;
  }
  return (
    <p className={`run-status run-status-${rec.status}`} role={rec.status === 'error' ? 'alert' : undefined} data-testid="run-status">
      {text}
    </p>
  );
}
