// Tests of the code: the asserts the user writes (run after the code), the result of the last
// run (pass/fail per doctest example and assert, tracebacks), and the attempts of "generate until
// the tests pass", each one a run on the timeline (click to show it in the canvas).

import type { RunOutcome } from '../python/sandbox';
import { verdict, TEST_TIME_LIMIT_MS } from './pythonTests';

export type TestsView =
  | { status: 'idle' }
  | { status: 'loading' | 'running'; target: 'generated' | 'editor' }
  | { status: 'done'; target: 'generated' | 'editor'; outcome: RunOutcome; afterStepMs: number | null };

export interface Attempt {
  requestId: string;
  seed: number;
  temperature: number;
  /** null while it generates or tests. */
  verdict: ReturnType<typeof verdict> | null;
}

export interface TestsPanelProps {
  asserts: string;
  onAsserts: (text: string) => void;
  view: TestsView;
  onRunEditor: () => void;
  onUntilPass: () => void;
  canGenerate: boolean;
  untilPassRunning: boolean;
  attemptsMax: number;
  attempts: Attempt[];
  shownRequestId: string | null;
  onShowAttempt: (requestId: string) => void;
}

const MARK: Record<string, string> = { pass: '✓', fail: '✗', error: '!', timeout: '⏱', none: '–' };

export function TestsPanel(p: TestsPanelProps) {
  const v = p.view;
  const status = v.status === 'done' ? verdict(v.outcome) : v.status;
  return (
    <section className="tests" aria-label="Tests" data-testid="tests-panel">
      <div className="tests-head">
        <span className="tests-title">Tests</span>
        <button type="button" onClick={p.onRunEditor} data-testid="tests-run-editor" title="Run the doctests and asserts of the editor's code (Python in the browser, sandboxed)">
          Run tests on editor
        </button>
        <button type="button" onClick={p.onUntilPass} disabled={!p.canGenerate || p.untilPassRunning} data-testid="tests-until-pass" title="Generate with new seeds until the tests pass">
          Generate until tests pass (≤ {p.attemptsMax})
        </button>
      </div>
      <textarea
        className="tests-asserts"
        value={p.asserts}
        onChange={(e) => p.onAsserts(e.target.value)}
        placeholder={'assert add(2, 3) == 5   # run after the code, with its doctests'}
        spellCheck={false}
        rows={2}
        aria-label="Asserts run after the code"
        data-testid="tests-asserts"
      />
      <p className={`tests-status is-${status}`} role="status" data-testid="tests-status" data-status={status} data-target={v.status === 'idle' ? '' : v.target}>
        {describe(v)}
      </p>
      {v.status === 'done' && v.outcome.status === 'done' ? (
        <>
          {v.outcome.report.error ? <pre className="tests-detail" data-testid="tests-error">{v.outcome.report.error}</pre> : null}
          <ul className="tests-list">
            {v.outcome.report.tests.map((t, i) => (
              <li key={i} className={t.ok ? 'is-pass' : 'is-fail'} data-testid="test-case" data-ok={t.ok}>
                <span className="tests-mark">{t.ok ? '✓' : '✗'}</span> <code>{t.name}</code> <span className="field-hint">line {t.line}</span>
                {t.ok ? null : <pre className="tests-detail" data-testid="test-detail">{t.detail}</pre>}
              </li>
            ))}
          </ul>
          {v.outcome.report.output ? <pre className="tests-detail tests-output">{v.outcome.report.output}</pre> : null}
        </>
      ) : null}
      {p.attempts.length > 0 ? (
        <ol className="tests-attempts" aria-label="Attempts" data-testid="attempts">
          {p.attempts.map((a, i) => (
            <li key={a.requestId}>
              <button
                type="button"
                className={a.requestId === p.shownRequestId ? 'is-on' : ''}
                onClick={() => p.onShowAttempt(a.requestId)}
                data-testid="attempt"
                data-verdict={a.verdict ?? 'pending'}
                title={`seed ${a.seed}, temperature ${a.temperature}`}
              >
                #{i + 1} {a.verdict ? MARK[a.verdict] : '…'}
              </button>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function describe(v: TestsView): string {
  const what = v.status === 'idle' ? '' : v.target === 'generated' ? 'generated code' : 'editor';
  switch (v.status) {
    case 'idle':
      return 'Doctests in the code and the asserts above run after each generation (Python in the browser, offline, sandboxed).';
    case 'loading':
      return `Starting Python (first time: about 13 MB, then cached for offline use)… (${what})`;
    case 'running':
      return `Running the tests of the ${what}…`;
    case 'done': {
      const o = v.outcome;
      const after = v.afterStepMs !== null ? `, ${Math.round(v.afterStepMs)} ms after the last step` : '';
      if (o.status === 'timeout') return `Stopped: the tests ran past the ${TEST_TIME_LIMIT_MS / 1000} s limit (${what}).`;
      if (o.status === 'error') return `Python failed: ${o.message}`;
      const tests = o.report.tests;
      const passed = tests.filter((t) => t.ok).length;
      const dropped = o.report.droppedLines > 0 ? ` (last ${o.report.droppedLines} generated line${o.report.droppedLines === 1 ? '' : 's'} left out: they did not parse)` : '';
      if (o.report.error) return `The code failed before its tests ran (${what})${dropped}.`;
      if (tests.length === 0) return `No doctests or asserts found (${what}).`;
      return `${passed} of ${tests.length} passed (${what}) in ${Math.round(o.ms)} ms${after}${dropped}.`;
    }
  }
}
