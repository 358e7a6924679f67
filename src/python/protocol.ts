// The Python worker's protocol (src/python/python.worker.ts <-> src/python/sandbox.ts): plain
// postMessage, one run at a time. Separate from the model worker's protocol (src/protocol.ts):
// this worker runs untrusted code and may be killed at any moment.

/** What the runner (runner.py) reports for one test. */
export interface TestCase {
  /** The assert statement, or 'function: >>> example' for a doctest example. */
  name: string;
  /** Line in the program (1-based). */
  line: number;
  ok: boolean;
  /** Traceback, or the expected/got text of a doctest; '' when it passed. */
  detail: string;
}

/** runner.py's report of one program. */
export interface TestReport {
  /** The program that ran: code + generated (its unparsable tail dropped) + asserts. */
  program: string;
  /** Lines dropped from the end of the generated text so that the program parses. */
  droppedLines: number;
  tests: TestCase[];
  /** A syntax error, or the traceback of a top-level statement that failed (the run stopped there). */
  error: string | null;
  /** What the program printed outside doctests (bounded), when anything. */
  output?: string;
}

/** Page -> worker. */
export type PythonRequest =
  | {
      type: 'init';
      /** Folder with pyodide.mjs, pyodide.asm.{mjs,wasm}, python_stdlib.zip, pyodide-lock.json. */
      indexURL: string;
      /** WebAssembly memory the worker may grow to, bytes (Memory.grow beyond it fails: MemoryError). */
      memoryLimitBytes: number;
    }
  | { type: 'run'; id: number; code: string; generated: string; asserts: string };

/** Worker -> page. */
export type PythonResponse =
  | { type: 'ready'; loadMs: number; memoryBytes: number }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; report: TestReport; ms: number; memoryBytes: number }
  | { type: 'run-error'; id: number; message: string };
