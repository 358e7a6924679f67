// Live numbers of a run at the frame shown: step i of n, forward passes, tokens per step,
// ms per step, tokens per second. Fixed-width tiles so nothing moves while they update.

import type { ReactNode } from 'react';
import { formatMs, formatRate } from './format';
import type { FrameStats, RunStatus } from './runRecord';

export interface RunStatsProps {
  stats: FrameStats;
  status: RunStatus;
  /** Steps the run is expected to take (fixed schedules), shown while it runs. */
  plannedSteps: number | null;
  /** Prefix for data-testids (Race lanes). */
  testPrefix?: string;
}

export function RunStats({ stats, status, plannedSteps, testPrefix = '' }: RunStatsProps) {
  const total = stats.totalSteps ?? plannedSteps;
  const tpf = stats.forwards > 0 ? stats.tokens / stats.forwards : 0;
  return (
    <dl className="run-stats" data-testid={`${testPrefix}run-stats`} data-status={status}>
      <Stat label="step" testId={`${testPrefix}step-counter`} data={{ 'data-step': stats.step, 'data-total': stats.totalSteps ?? '' }}>
        {stats.step}
        <span className="stat-of"> / {total ?? '…'}</span>
      </Stat>
      <Stat label="forward passes">{stats.forwards}</Stat>
      <Stat label="tokens / step">{formatRate(stats.tokensPerStep)}</Stat>
      <Stat label="ms / step">{stats.step > 0 ? formatMs(stats.msPerStep) : '–'}</Stat>
      <Stat label="tokens / s" testId={`${testPrefix}tokens-per-second`} data={{ 'data-value': stats.tokensPerSecond.toFixed(3) }}>
        {formatRate(stats.tokensPerSecond)}
      </Stat>
      <Stat label="tokens / pass" testId={`${testPrefix}tokens-per-forward`} data={{ 'data-value': tpf.toFixed(3) }}>
        {tpf > 0 ? tpf.toFixed(2) : '–'}
      </Stat>
    </dl>
  );
}

function Stat({ label, children, testId, data }: { label: string; children: ReactNode; testId?: string; data?: Record<string, string | number> }) {
  return (
    <div className="stat" data-testid={testId} {...data}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
