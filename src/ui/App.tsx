// Page layout and wiring: top bar, editor | denoising view (Generate) or the two Race lanes,
// settings drawer, status bar. Runs go through src/ui/runner.ts; models through modelManager.

import { useCallback, useEffect, useRef, useState } from 'react';
import { CodeEditor, type EditorCommands } from './CodeEditor';
import { DenoisePanel } from './DenoisePanel';
import { attemptKnobs, generateUntilPass, hasTests, logEntry, pythonSandbox, verdict } from './pythonTests';
import { TestsPanel, type Attempt, type TestsView } from './TestsPanel';
import type { RunOutcome } from '../python/sandbox';
import { DraftSaver, localStore, restoreDraft, sessionStore, type DraftState } from './draft';
import { appendToEditor } from './editorText';
import { modelManager } from './modelManager';
import type { Mode } from './ModeTabs';
import { monaco } from './monaco';
import { RacePanel } from './RacePanel';
import { rematch, type Lane, type RematchRuns } from './rematch';
import { startRun, type RunHandle } from './runner';
import { completionDelayFromUrl, fillKnobs, fitGenLength, knobsFor } from './settings';
import { SettingsPanel } from './SettingsPanel';
import { StatusBar } from './StatusBar';
import { setTestEditor } from './testHook';
import { TopBar } from './TopBar';
import { useAdapter } from './useAdapter';
import { useModel } from './useModel';
import { useModelChoice } from './useModelChoice';
import { useOffline } from './useOffline';
import { useSettings } from './useSettings';
import { useTheme } from './useTheme';
import { registerCompletions } from '../lib';
import { workerClient } from './workerClient';

const SAMPLE = `# Write a prompt, or select code and fill it in (Ctrl+Shift+Enter).
def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def is_prime(n: int) -> bool:
    """Return True if n is a prime number."""
`;

type Editor = monaco.editor.IStandaloneCodeEditor;

/** Inline completions (on every pause in typing): up to 32 new tokens, the model's default decoding at the settings' τ. */
const COMPLETION = { genLength: 32 };

export function App() {
  const adapter = useAdapter();
  const offline = useOffline();
  const [settings, updateSettings, resetSettings] = useSettings();
  const [theme, toggleTheme] = useTheme();
  const [mode, setMode] = useState<Mode>(() => (new URLSearchParams(window.location.search).get('mode') === 'race' ? 'race' : 'generate'));
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [url] = useState(() => new URLSearchParams(window.location.search));
  const wantEngine = url.get('engine') ?? settings.engine;
  // Without WebGPU the CPU engine (WebAssembly) can still run the models, unless WebGPU is forced.
  const cpuFallback = adapter.status === 'unavailable' && wantEngine !== 'webgpu';
  const canLoad = adapter.status === 'ready' || cpuFallback;
  const models = useModelChoice(canLoad, settings, mode === 'race');
  const diffusion = useModel(models.diffusionId);
  const ar = useModel(models.arId);

  const [genRun, setGenRun] = useState<RunHandle | null>(null);
  const [race, setRace] = useState<{ d: RunHandle | null; a: RunHandle | null; first: 'diffusion' | 'ar'; rematch: RematchRuns | null }>({ d: null, a: null, first: 'diffusion', rematch: null });
  /** Races started so far: the lane that runs first alternates (the first run after a pause is slower). */
  const raceCount = useRef(0);
  /** Stops the running Race's rematches (rematch.ts): a new Race, a generation or a fill. */
  const rematchStop = useRef<AbortController | null>(null);
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const [applyLabel, setApplyLabel] = useState<string | null>(null);
  const applyRef = useRef<(() => void) | null>(null);
  const [completing, setCompleting] = useState(false);
  /** The last inline suggestion: tokens, ms from request to the whole suggestion, tokens per pass. */
  const [lastCompletion, setLastCompletion] = useState<{ tokens: number; ms: number; perPass: number } | null>(null);

  // Tests (src/ui/pythonTests.ts): the user's asserts, the last result, the attempts of "until pass".
  const [asserts, setAsserts] = useState(() => readAsserts());
  const [testsView, setTestsView] = useState<TestsView>({ status: 'idle' });
  const [attempts, setAttempts] = useState<Attempt[]>([]);
  const [untilPassRunning, setUntilPassRunning] = useState(false);
  const attemptRuns = useRef(new Map<string, RunHandle>());
  const untilPassStop = useRef(false);
  const assertsRef = useRef(asserts);
  assertsRef.current = asserts;

  const editorRef = useRef<Editor | null>(null);
  // The editor starts from the text it had before a reload or a crash (src/ui/draft.ts).
  const [initialText] = useState(() => restoreDraft({ tab: sessionStore(), shared: localStore() }) ?? SAMPLE);
  const [draft, setDraft] = useState<DraftState>({ status: 'saved' });
  const live = useRef({ settings, diffusion, models });
  live.current = { settings, diffusion, models };

  const runs = [genRun, race.d, race.a].filter((r): r is RunHandle => r !== null);
  const running = runs.some((r) => !r.record.finished);

  const knobs = useCallback((maxSeqLen: number, want = live.current.settings.genLength) => {
    const s = live.current.settings;
    return knobsFor(s, fitGenLength(want, maxSeqLen));
  }, []);

  /** Run the tests of `code + generated` (+ the asserts); `stepsDoneAt`: when the run's last step arrived. */
  const runTests = useCallback(async (target: 'generated' | 'editor', code: string, generated: string, stepsDoneAt: number | null) => {
    const sandbox = pythonSandbox();
    const warm = sandbox.warm;
    setTestsView({ status: warm ? 'running' : 'loading', target });
    const outcome = await sandbox.run(code, generated, assertsRef.current);
    setTestsView({ status: 'done', target, outcome, afterStepMs: stepsDoneAt === null ? null : performance.now() - stepsDoneAt });
    // logged once the result is on screen (the next frame)
    await new Promise<void>((r) => requestAnimationFrame(() => r()));
    logEntry(target, outcome, warm, stepsDoneAt === null ? null : performance.now() - stepsDoneAt);
    return outcome;
  }, []);

  /** A generation of the editor's text at `over` (seed/temperature); its tests run when it ends. */
  const generateOnce = useCallback((over?: { seed: number; temperature: number }) => {
    rematchStop.current?.abort(); // the worker runs one at a time: no Race rematch ahead of it
    const d = live.current.diffusion;
    const editor = editorRef.current;
    if (d.status !== 'ready' || !editor) return null;
    genRun?.cancel();
    const prompt = editor.getValue();
    const testing = live.current.settings.runTests && hasTests(prompt, assertsRef.current);
    // Python starts while the model denoises, so the tests run right after the last step.
    if (testing) void pythonSandbox().warmUp().catch(() => {});
    const run = startRun({ kind: 'generate', label: 'generate', modelId: d.modelId, specials: d.specials, knobs: { ...knobs(d.maxSeqLen), ...over }, prompt }, bump);
    attemptRuns.current.set(run.record.requestId, run);
    setGenRun(run);
    const tested = run.done.then((res) => (res && testing ? runTests('generated', prompt, res.text, performance.now()) : null));
    return { run, prompt, tested };
  }, [genRun, knobs, bump, runTests]);

  const generate = useCallback(() => {
    setAttempts([]);
    attemptRuns.current.clear();
    const started = generateOnce();
    if (!started) return;
    const { run } = started;
    const editor = editorRef.current!;
    setApplyLabel('Append to editor');
    applyRef.current = () => {
      const text = run.record.result?.text;
      if (!text || !appendToEditor(editor, text)) return;
      editor.focus();
    };
  }, [generateOnce]);

  const runEditorTests = useCallback(() => {
    const editor = editorRef.current;
    if (editor) void runTests('editor', editor.getValue(), '', null);
  }, [runTests]);

  /** Attempts with new seeds until the tests pass (settings: attempts, attemptSeconds). */
  const untilPass = useCallback(async () => {
    const s = live.current.settings;
    untilPassStop.current = false;
    setUntilPassRunning(true);
    setAttempts([]);
    attemptRuns.current.clear();
    /** The tests of the attempt in progress (they start when its generation ends). */
    let pending: Promise<RunOutcome | null> = Promise.resolve(null);
    const mark = (i: number, patch: Partial<Attempt>) => setAttempts((list) => list.map((a, j) => (j === i ? { ...a, ...patch } : a)));
    try {
      await generateUntilPass({
        attempts: s.attempts,
        budgetMs: s.attemptSeconds * 1000,
        stopped: () => untilPassStop.current,
        generate: async (i) => {
          const k = attemptKnobs(i, s.seed, s.temperature);
          // the attempt's tests are awaited by `test` below, through `pending`
          const started = generateOnce(k);
          if (!started) return null;
          pending = started.tested;
          setAttempts((list) => [...list, { requestId: started.run.record.requestId, ...k, verdict: null }]);
          const res = await started.run.done;
          return res ? res.text : null;
        },
        test: async (i, generated) => {
          const o = (await pending) ?? (await runTests('generated', editorRef.current?.getValue() ?? '', generated, null));
          mark(i, { verdict: verdict(o) });
          return o;
        },
      });
    } finally {
      setUntilPassRunning(false);
    }
  }, [generateOnce, runTests]);

  const showAttempt = useCallback((requestId: string) => {
    const run = attemptRuns.current.get(requestId);
    if (run) setGenRun(run);
  }, []);

  const startRace = useCallback(async () => {
    // this Race's rematches stop with the next Race (even one started while models load)
    rematchStop.current?.abort();
    const stop = new AbortController();
    rematchStop.current = stop;
    const editor = editorRef.current;
    const { diffusionId, arId } = live.current.models;
    if (!editor || !diffusionId || !arId) return;
    race.d?.cancel();
    race.a?.cancel();
    let d, a;
    try {
      [d, a] = await Promise.all([modelManager().ensure(diffusionId), modelManager().ensure(arId)]);
    } catch {
      return; // the lanes show the model error
    }
    if (stop.signal.aborted) return; // another Race started meanwhile
    const prompt = editor.getValue();
    // Same knobs for both; the AR twin ignores the schedule and decodes one token per step. The
    // syntax check is the diffusion sampler's alone: off here, so both lanes time the same work.
    const k = { ...knobs(Math.min(d.maxSeqLen, a.maxSeqLen)), syntaxCheck: false };
    // The worker runs one at a time, in the order asked. The first run after the machine was idle
    // is slower (measured here: 27 Races each, diffusion first 0.88× its twin's tokens/s, the twin
    // first 0.99×), so the lane that goes first alternates from one Race to the next.
    const first = raceCount.current++ % 2 === 0 ? 'diffusion' : 'ar';
    const startD = () => startRun({ kind: 'generate', label: 'race-diffusion', modelId: d.modelId, specials: d.specials, knobs: k, prompt }, bump);
    const startA = () => startRun({ kind: 'generate', label: 'race-ar', modelId: a.modelId, specials: a.specials, knobs: k, prompt }, bump);
    let dRun: RunHandle, aRun: RunHandle;
    if (first === 'diffusion') {
      dRun = startD();
      aRun = startA();
    } else {
      aRun = startA();
      dRun = startD();
    }
    setRace({ d: dRun, a: aRun, first, rematch: null });
    // then the rematches: the same runs again, silently, while the budget lasts (rematch.ts)
    void Promise.all([dRun.done, aRun.done]).then(async ([dr, ar]) => {
      if (!dr || !ar || stop.signal.aborted || !(dr.stats.tokensPerSecond > 0 && ar.stats.tokensPerSecond > 0)) return;
      const client = workerClient();
      const once = async (lane: Lane) => {
        const r = await client.generate(prompt, { ...k, model: lane === 'diffusion' ? d.modelId : a.modelId, signal: stop.signal }).catch(() => null);
        return r && r.stats.tokensPerSecond > 0 ? { tokensPerSecond: r.stats.tokensPerSecond, ms: r.stats.ms } : null;
      };
      const runs = await rematch(dr.stats.ms + ar.stats.ms, first, once, stop.signal);
      if (!stop.signal.aborted && runs.diffusion.length > 0) setRace((r) => (r.d === dRun ? { ...r, rematch: runs } : r));
    });
  }, [race, knobs, bump]);

  const fillSelection = useCallback(
    (editor: Editor) => {
      const d = live.current.diffusion;
      const model = editor.getModel();
      const sel = editor.getSelection();
      if (d.status !== 'ready' || d.kind !== 'diffusion' || !model || !sel || sel.isEmpty()) return;
      const text = model.getValue();
      const start = model.getOffsetAt(sel.getStartPosition());
      const end = model.getOffsetAt(sel.getEndPosition());
      // Room for about what was selected (≈3 characters per token), within the settings' length.
      const want = Math.min(live.current.settings.genLength, Math.max(8, Math.ceil((end - start) / 3) + 8));
      const pending = editor.createDecorationsCollection([{ range: sel, options: { className: 'fill-pending' } }]);
      rematchStop.current?.abort();
      genRun?.cancel();
      const run = startRun(
        { kind: 'infill', label: 'fill', modelId: d.modelId, specials: d.specials, knobs: { ...fillKnobs(knobs(d.maxSeqLen, want), live.current.settings, d.blockCausal), suffixEndsText: true }, prefix: text.slice(0, start), suffix: text.slice(end) },
        bump,
      );
      setMode('generate');
      setGenRun(run);
      // The result replaces the (tracked) selection when the run ends; no button needed.
      setApplyLabel(null);
      applyRef.current = null;
      void run.done.then((res) => {
        const range = pending.getRange(0);
        if (res?.text && range) editor.executeEdits('quicksilver', [{ range, text: res.text }]);
        pending.clear();
      });
    },
    [genRun, knobs, bump],
  );

  const stop = useCallback(() => {
    rematchStop.current?.abort();
    untilPassStop.current = true;
    for (const r of runs) r.cancel();
  }, [runs]);

  const onRun = mode === 'race' ? () => void startRace() : generate;
  const commands: EditorCommands = { generate: onRun, fillSelection };

  // Ctrl/Cmd+Enter outside the editor too (the editor has its own binding).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey) || e.shiftKey) return;
      if ((e.target as HTMLElement | null)?.closest?.('.monaco-editor')) return;
      e.preventDefault();
      onRun();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onRun]);

  // Ghost-text completions at the cursor, through the library's registerCompletions (one
  // provider for the page's lifetime; the editor exists already: child effects run first).
  useEffect(() => {
    const editor = editorRef.current;
    if (!editor) return;
    const ready = () => (live.current.diffusion.status === 'ready' ? live.current.diffusion : null);
    const completions = registerCompletions(monaco, editor, workerClient(), {
      enabled: () => live.current.settings.autocomplete && ready()?.kind === 'diffusion',
      debounceMs: completionDelayFromUrl(window.location.search),
      model: () => ready()?.modelId,
      knobs: () => ({
        genLength: fitGenLength(COMPLETION.genLength, ready()?.maxSeqLen ?? COMPLETION.genLength + 1),
        schedule: { kind: 'threshold', tau: live.current.settings.tau },
        temperature: 0,
        seed: live.current.settings.seed,
        truncate: true,
      }),
      onBusy: (busy) => {
        if (busy) rematchStop.current?.abort(); // a completion goes first, and would change the cache the rematches time
        setCompleting(busy);
      },
      onResult: ({ stats: s }) => setLastCompletion({ tokens: s.tokensGenerated, ms: s.ms, perPass: s.forwards > 0 ? s.tokensGenerated / s.forwards : 0 }),
    });
    return () => {
      completions.dispose();
      rematchStop.current?.abort();
    };
  }, []);

  const onEditorReady = useCallback((editor: Editor) => {
    editorRef.current = editor;
    setTestEditor(editor);
    const saver = new DraftSaver({ tab: sessionStore(), shared: localStore() }, () => editor.getValue(), setDraft);
    editor.onDidChangeModelContent(() => saver.schedule());
    // Hidden or closing: write now, not after the delay.
    const flush = () => saver.flush();
    window.addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', flush);
    editor.onDidDispose(() => {
      saver.dispose();
      window.removeEventListener('pagehide', flush);
      document.removeEventListener('visibilitychange', flush);
    });
  }, []);

  const retry = useCallback((id: string) => void modelManager().ensure(id).catch(() => {}), []);

  const diffusionReady = diffusion.status === 'ready';
  const canRun = mode === 'race' ? diffusionReady && !!models.arId && ar.status !== 'loading' : diffusionReady;
  const disabledReason =
    adapter.status === 'unavailable' && !cpuFallback
      ? 'WebGPU is not available'
      : mode === 'race' && !models.arId
        ? 'No autoregressive twin is shipped'
        : diffusion.status === 'loading'
          ? 'The model is still loading'
          : diffusion.status === 'error'
            ? 'The model failed to load'
            : 'Waiting for the model';

  return (
    <div className={`app mode-${mode}`} data-testid="app" data-theme={theme}>
      <TopBar
        mode={mode}
        onMode={setMode}
        running={running}
        canRun={canRun}
        disabledReason={disabledReason}
        onRun={onRun}
        onStop={stop}
        settingsOpen={settingsOpen}
        onSettings={() => setSettingsOpen((o) => !o)}
        theme={theme}
        onTheme={toggleTheme}
      />
      <main className="workspace">
        <section className="pane editor-pane" aria-label="Editor">
          <div className="pane-title">
            <span>main.py</span>
            <span
              className={`pane-title-note draft-state${draft.status === 'failed' ? ' is-error' : ''}`}
              data-testid="draft-state"
              data-state={draft.status}
              title={draft.status === 'failed' ? draft.reason : 'The text is kept in this browser across reloads'}
            >
              {draft.status === 'failed' ? `not saved: ${draft.reason}` : draft.status === 'pending' ? 'saving…' : 'saved'}
            </span>
            <span className="pane-title-note" data-testid="completing" data-active={completing}>
              {completing
                ? 'completing…'
                : settings.autocomplete
                  ? lastCompletion
                    ? `last suggestion: ${lastCompletion.tokens} tokens in ${Math.round(lastCompletion.ms)} ms, ${lastCompletion.perPass.toFixed(1)} per pass · Tab accepts`
                    : 'pause to complete · Tab accepts'
                  : ''}
            </span>
          </div>
          <div className="pane-body editor-body">
            <CodeEditor initialValue={initialText} onReady={onEditorReady} commands={commands} />
          </div>
        </section>
        {mode === 'generate' ? (
          <DenoisePanel
            adapter={adapter}
            model={diffusion}
            run={genRun}
            version={version}
            notes={models.notes}
            onRetryModel={() => models.diffusionId && retry(models.diffusionId)}
            onApply={applyLabel ? () => applyRef.current?.() : undefined}
            applyLabel={applyLabel ?? undefined}
            cpuFallback={cpuFallback}
            tests={
              <TestsPanel
                asserts={asserts}
                onAsserts={(t) => {
                  setAsserts(t);
                  saveAsserts(t);
                }}
                view={testsView}
                onRunEditor={runEditorTests}
                onUntilPass={() => void untilPass()}
                canGenerate={diffusionReady && !running}
                untilPassRunning={untilPassRunning}
                attemptsMax={settings.attempts}
                attempts={attempts}
                shownRequestId={genRun?.record.requestId ?? null}
                onShowAttempt={showAttempt}
              />
            }
          />
        ) : (
          <RacePanel
            adapter={adapter}
            diffusionId={models.diffusionId}
            arId={models.arId}
            diffusionModel={diffusion}
            arModel={ar}
            diffusionRun={race.d}
            arRun={race.a}
            first={race.first}
            rematch={race.rematch}
            version={version}
            onRetryModel={retry}
            cpuFallback={cpuFallback}
          />
        )}
        {settingsOpen ? (
          <SettingsPanel
            settings={settings}
            onChange={updateSettings}
            onReset={resetSettings}
            onClose={() => setSettingsOpen(false)}
            index={models.index ?? null}
            activeModel={models.diffusionId}
            activeAr={models.arId}
            urlOverrides={!!(models.url.model || models.url.ar || models.url.engine)}
            maxSeqLen={diffusion.status === 'ready' ? diffusion.maxSeqLen : null}
          />
        ) : null}
      </main>
      <StatusBar adapter={adapter} model={diffusion} offline={offline} />
    </div>
  );
}

const ASSERTS_KEY = 'quicksilver.asserts';

function readAsserts(): string {
  try {
    return localStorage.getItem(ASSERTS_KEY) ?? '';
  } catch {
    return '';
  }
}

function saveAsserts(text: string): void {
  try {
    localStorage.setItem(ASSERTS_KEY, text);
  } catch {
    // private mode / quota: the asserts just do not persist
  }
}
