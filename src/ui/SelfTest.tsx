// "GPU self-test": runs the add_vectors kernel in the worker and checks it against the CPU.
// A user-facing proof that the WebGPU path works on this machine (also used by e2e tests).

import { useState } from 'react';
import { addVectorsReference } from '../worker/addVectorsReference';
import { workerClient } from './workerClient';

const N = 1 << 16;

type Result =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'done'; ok: boolean; maxError: number; ms: number }
  | { status: 'error'; message: string };

export function SelfTest() {
  const [result, setResult] = useState<Result>({ status: 'idle' });

  async function run() {
    setResult({ status: 'running' });
    try {
      const a = Float32Array.from({ length: N }, () => Math.random() * 2 - 1);
      const b = Float32Array.from({ length: N }, () => Math.random() * 2 - 1);
      const expected = addVectorsReference(a, b);
      const { out, ms } = await workerClient().addVectors({ a, b });
      let maxError = out.length === N ? 0 : Infinity;
      for (let i = 0; i < N && maxError !== Infinity; i++) {
        const e = Math.abs((out[i] as number) - (expected[i] as number));
        maxError = Number.isNaN(e) ? Infinity : Math.max(maxError, e);
      }
      setResult({ status: 'done', ok: maxError === 0, maxError, ms });
    } catch (err) {
      setResult({ status: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  return (
    <div className="self-test">
      <button type="button" onClick={run} disabled={result.status === 'running'} data-testid="self-test-run">
        Run GPU self-test
      </button>
      <span className="self-test-result" data-testid="self-test-result" data-status={result.status}>
        {describe(result)}
      </span>
    </div>
  );
}

function describe(r: Result): string {
  switch (r.status) {
    case 'idle':
      return `adds two vectors of ${N.toLocaleString('en-US')} floats on the GPU`;
    case 'running':
      return 'running…';
    case 'done':
      return r.ok
        ? `✓ matches the CPU exactly (${r.ms.toFixed(0)} ms)`
        : `✗ mismatch, max error ${r.maxError}`;
    case 'error':
      return `✗ ${r.message}`;
  }
}
