// scripts/models-index.mjs on made-up model folders: an int8 export's qualityHolds is judged
// against its float source's eval, read from the source's folder where it ships, else from the
// copy export.py keeps in the int8 config (quantization.source_eval).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One model folder: a safetensors file with a single I8 or F16 tensor, a tokenizer, the config and manifest. */
function writeModel(root: string, id: string, config: Record<string, unknown>): void {
  const folder = join(root, id);
  mkdirSync(folder);
  const header = Buffer.from(JSON.stringify({ w: { dtype: config.dtype === 'int8' ? 'I8' : 'F16', shape: [2, 4], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(folder, 'model.safetensors'), Buffer.concat([len, header, Buffer.alloc(8)]));
  writeFileSync(join(folder, 'tokenizer.json'), '{}');
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
  const files = Object.fromEntries(
    ['config.json', 'model.safetensors', 'tokenizer.json'].map((n) => [n, { bytes: statSync(join(folder, n)).size }]),
  );
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ files }));
}

const arch = { kind: 'diffusion', vocab_size: 16, dim: 4, n_layers: 1, ffn_dim: 8, max_seq_len: 8 };
const int8 = (sourceEval: Record<string, number> | null, evalNumbers: Record<string, number>) => ({
  ...arch,
  dtype: 'int8',
  quantization: { bits: 8, group_size: 4, from: 'm', ...(sourceEval ? { source_eval: sourceEval } : {}) },
  eval: evalNumbers,
});

function index(models: Record<string, Record<string, unknown>>): Record<string, { quantized?: { qualityHolds: boolean | null } }> {
  const root = mkdtempSync(join(tmpdir(), 'qs-index-'));
  dirs.push(root);
  for (const [id, config] of Object.entries(models)) writeModel(root, id, config);
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'models-index.mjs'), root]);
  const json = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { models: { id: string; quantized?: { qualityHolds: boolean | null } }[] };
  return Object.fromEntries(json.models.map((m) => [m.id, m]));
}

describe('models-index.mjs qualityHolds', () => {
  const good = { bits_per_byte_exact: 1.0, syntax_valid: 0.5 };
  it('uses the shipped float source when there is one', () => {
    const out = index({ m: { ...arch, dtype: 'float16', eval: good }, 'm-int8': int8(null, { bits_per_byte_exact: 1.005, syntax_valid: 0.495 }) });
    expect(out['m-int8'].quantized?.qualityHolds).toBe(true);
  });
  it('falls back to quantization.source_eval when the float source is not shipped', () => {
    expect(index({ 'm-int8': int8(good, { bits_per_byte_exact: 1.005, syntax_valid: 0.5 }) })['m-int8'].quantized?.qualityHolds).toBe(true);
    // syntax-valid 2 points below the source's: does not hold
    expect(index({ 'm-int8': int8(good, { bits_per_byte_exact: 1.0, syntax_valid: 0.48 }) })['m-int8'].quantized?.qualityHolds).toBe(false);
    // bits/byte 2% above: does not hold
    expect(index({ 'm-int8': int8(good, { bits_per_byte_exact: 1.02, syntax_valid: 0.5 }) })['m-int8'].quantized?.qualityHolds).toBe(false);
  });
  it('says nothing (null) without either', () => {
    expect(index({ 'm-int8': int8(null, { bits_per_byte_exact: 1.0, syntax_valid: 0.5 }) })['m-int8'].quantized?.qualityHolds).toBeNull();
  });
});
