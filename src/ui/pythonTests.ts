// Running the tests of generated code from the page: one Python sandbox for the app (its limits
// below), whether a program has tests at all, how an outcome reads, and "generate until the
// tests pass" (attempts with new seeds within a time budget). No React here.

import { PYODIDE_DIR } from '../python/assets';
import { PythonSandbox, type RunOutcome } from '../python/sandbox';

/** Wall-clock limit of one test run; past it the worker is terminated. */
export const TEST_TIME_LIMIT_MS = 5_000;
/** WebAssembly memory the Python worker may grow to (Pyodide starts at about 30 MiB). */
export const TEST_MEMORY_LIMIT_BYTES = 512 * 1024 * 1024;

let sandbox: PythonSandbox | null = null;

export function pythonSandbox(): PythonSandbox {
  sandbox ??= new PythonSandbox({
    indexURL: `${import.meta.env.BASE_URL}${PYODIDE_DIR}`,
    timeLimitMs: TEST_TIME_LIMIT_MS,
    memoryLimitBytes: TEST_MEMORY_LIMIT_BYTES,
  });
  return sandbox;
}

/** Whether running the program would test anything: a doctest prompt in the code, or an assert. */
export function hasTests(code: string, asserts: string): boolean {
  return /^\s*>>>/m.test(code) || /^\s*assert\b/m.test(asserts) || /^assert\b/m.test(code);
}

export type Verdict = 'pass' | 'fail' | 'error' | 'timeout' | 'none';

/** pass: at least one test and every one passed; none: the program ran but held no tests. */
export function verdict(o: RunOutcome): Verdict {
  if (o.status === 'timeout') return 'timeout';
  if (o.status === 'error' || o.report.error) return 'error';
  if (o.report.tests.length === 0) return 'none';
  return o.report.tests.every((t) => t.ok) ? 'pass' : 'fail';
}

/** One finished test run, as the e2e tests and the bench read it (window.__qs.tests()). */
export interface TestLogEntry {
  target: 'generated' | 'editor';
  verdict: Verdict;
  passed: number;
  failed: number;
  /** Ms the runner took inside the worker (0 when it did not finish). */
  runMs: number;
  /** Ms from the run's last step to the result on screen (generated code only), else null. */
  afterStepMs: number | null;
  /** The worker was loaded before this run (no cold start in it). */
  warm: boolean;
  detail: string;
}

export const testLog: TestLogEntry[] = [];

export function logEntry(target: TestLogEntry['target'], o: RunOutcome, warm: boolean, afterStepMs: number | null): TestLogEntry {
  const tests = o.status === 'done' ? o.report.tests : [];
  const entry: TestLogEntry = {
    target,
    verdict: verdict(o),
    passed: tests.filter((t) => t.ok).length,
    failed: tests.filter((t) => !t.ok).length,
    runMs: o.status === 'done' ? o.ms : 0,
    afterStepMs,
    warm,
    detail: o.status === 'done' ? (o.report.error ?? tests.find((t) => !t.ok)?.detail ?? '') : o.status === 'error' ? o.message : `stopped after ${Math.round(o.ms)} ms`,
  };
  testLog.push(entry);
  if (testLog.length > 100) testLog.shift();
  return entry;
}

/**
 * The knobs of attempt `i` of "generate until the tests pass": the first is the user's own
 * seed and temperature; later ones sample (greedy decoding would only repeat the first) with the
 * next seeds.
 */
export function attemptKnobs(i: number, seed: number, temperature: number): { seed: number; temperature: number } {
  if (i === 0) return { seed, temperature };
  return { seed: (seed + i) >>> 0, temperature: temperature > 0 ? temperature : 0.8 };
}

export interface UntilPassOptions {
  attempts: number;
  budgetMs: number;
  /** Generates attempt i; resolves with the generated text, or null when it was cancelled/failed. */
  generate: (i: number) => Promise<string | null>;
  /** Tests attempt i's text. */
  test: (i: number, generated: string) => Promise<RunOutcome>;
  /** Whether to stop early (the user pressed Stop). */
  stopped?: () => boolean;
  now?: () => number;
}

/** Attempts until one passes, N are done, the budget is spent or it is stopped: the passing index or null. */
export async function generateUntilPass(o: UntilPassOptions): Promise<{ passed: number | null; tried: number; reason: 'passed' | 'attempts' | 'budget' | 'stopped' }> {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  for (let i = 0; i < o.attempts; i++) {
    if (o.stopped?.()) return { passed: null, tried: i, reason: 'stopped' };
    if (i > 0 && now() - t0 >= o.budgetMs) return { passed: null, tried: i, reason: 'budget' };
    const text = await o.generate(i);
    if (text === null) return { passed: null, tried: i + 1, reason: 'stopped' };
    if (verdict(await o.test(i, text)) === 'pass') return { passed: i, tried: i + 1, reason: 'passed' };
  }
  return { passed: null, tried: o.attempts, reason: 'attempts' };
}
