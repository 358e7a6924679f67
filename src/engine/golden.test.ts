// Golden check: every model folder in public/models/ that ships a golden.json (PyTorch's float32
// logits, training/export.py) is loaded through the real loader (manifest + SHA-256 checked) and
// run on the device. Bound: per case, max |engine - torch| / max |torch| over the listed
// positions ≤ 1e-3 (f32 engine vs f32 PyTorch on the same float16-rounded weights).
// Also: for diffusion models, decide() at those positions picks PyTorch's argmax (mask excluded)
// wherever PyTorch's top two logits are not within 1e-3 of each other. For autoregressive models,
// prefill of the first token then decodeStep through the KV cache gives, at each listed
// position, the decision computed from PyTorch's logits (same greedy token where the top two are
// apart, probability and entropy within 1e-4 / 1e-3).
import { describe, expect, it } from 'vitest';
import { expectGoldenCase, goldenDirs as dirs, modelFiles, readGolden } from './golden.testkit';
import { loadModel } from './load';
import { GpuAutoregressiveModel, GpuDiffusionModel } from './models';
import { decideRef } from './reference';
import { testDevice } from './testkit';

describe('golden logits from PyTorch', () => {
  if (dirs.length === 0) {
    it.skip('no public/models/*/golden.json yet: nothing to compare (the lead ships them with the tiny models)', () => {});
    return;
  }
  for (const dir of dirs) {
    it(`${dir}: engine logits match PyTorch (rel err ≤ 1e-3)`, async () => {
      const device = await testDevice();
      const files = modelFiles(dir);
      const cases = readGolden(dir);
      const model = await loadModel(files, device, undefined, { verify: 'manifest.json' in files });
      const mask = model.config.special_tokens.mask;
      // an int8 model stays int8 on the device (int8 matrices + f32 scales, not 4 bytes a weight)
      if (model.config.dtype === 'int8') expect(model.weightBytes).toBeLessThan(1.3 * model.parameterCount);
      try {
        for (const [ci, c] of cases.entries()) {
          await expectGoldenCase(model instanceof GpuDiffusionModel ? model : { config: model.config, logits: (t) => model.logits(t) }, c, `${dir} case ${ci}`);

          if (model instanceof GpuAutoregressiveModel && 'input_ids' in c) {
            const tokens = Int32Array.from(c.input_ids);
            // positions < 64: one prefill of the first token, then decodeStep through the cache;
            // later positions: prefill of the tokens up to them (keeps the test short)
            const opts = { temperature: 0, seed: 0, step: 0 };
            const check = (d: { token: Int32Array; prob: Float32Array; entropy: Float32Array }, row: number) => {
              const i = c.positions.indexOf(row);
              if (i < 0) return;
              const r = decideRef(c.logits[i], { ...opts, position: row + 1, current: -1, maskToken: mask });
              const sorted = c.logits[i].filter((_, t) => t !== mask).sort((a, b) => b - a);
              if (sorted[0] - sorted[1] > 1e-3 * Math.max(1, Math.abs(sorted[0]))) expect(d.token[0], `${dir} case ${ci} row ${row}`).toBe(r.token);
              expect(Math.abs(d.prob[0] - r.prob)).toBeLessThanOrEqual(1e-4);
              expect(Math.abs(d.entropy[0] - r.entropy)).toBeLessThanOrEqual(1e-3);
            };
            const chainEnd = Math.min(Math.max(...c.positions), 63);
            let d = await model.prefill(tokens.subarray(0, 1), opts);
            check(d, 0);
            for (let row = 1; row <= chainEnd; row++) {
              d = await model.decodeStep(tokens[row], opts);
              check(d, row);
            }
            for (const p of c.positions.filter((q) => q > chainEnd)) check(await model.prefill(tokens.subarray(0, p + 1), opts), p);
          }
        }
      } finally {
        model.dispose();
      }
    }, 300_000);
  }
});
