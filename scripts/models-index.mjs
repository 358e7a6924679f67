// Writes public/models/index.json: the models shipped with the app, read from their folders
// (public/models/<id>/config.json + manifest.json). The app reads it to pick its default model and
// to fill the model menus. Run by `npm run build` / `npm run dev` (prebuild / predev), or by hand:
//   node scripts/models-index.mjs [modelsDir]
// A folder without config.json, manifest.json or any file the manifest lists (an export still
// being written) is skipped with a note.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2] ?? join(root, 'public', 'models');

/** Parameters of the MODEL_FORMAT.md architecture, from config.json alone. */
export function parameterCount(c) {
  const perLayer = 4 * c.dim * c.dim + 3 * c.dim * c.ffn_dim + 2 * c.dim;
  return c.vocab_size * c.dim * (c.tie_embeddings === false ? 2 : 1) + c.n_layers * perLayer + c.dim;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Bytes the weights take in the WebGPU engine, from the safetensors header: int8 matrices stay
 *  int8 (scales widened to f32), float tensors become f32 (the CPU engine is within a few %). */
export function memoryBytes(safetensorsPath) {
  const buf = readFileSync(safetensorsPath);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  let bytes = 0;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const elems = t.shape.reduce((a, b) => a * b, 1);
    bytes += t.dtype === 'I8' ? elems : 4 * elems;
  }
  return bytes;
}

/** int8 quality holds against the float model it came from (issue #12's bar: bits/byte within
 *  1%, syntax-valid within 1 point, both from eval.py on the same rows); null: not evaluated. */
export function qualityHolds(q, f) {
  const bpb = (e) => e?.bits_per_byte_exact ?? e?.bits_per_byte;
  if (!q || !f || bpb(q) == null || bpb(f) == null || q.syntax_valid == null || f.syntax_valid == null) return null;
  return bpb(q) <= 1.01 * bpb(f) && q.syntax_valid >= f.syntax_valid - 0.01;
}

const models = [];
const skipped = [];
/** id -> the float source's numbers an int8 config carries (quantization.source_eval) */
const sourceEvals = new Map();
for (const id of existsSync(dir) ? readdirSync(dir).sort() : []) {
  const folder = join(dir, id);
  if (!statSync(folder).isDirectory()) continue;
  try {
    const configPath = join(folder, 'config.json');
    const manifestPath = join(folder, 'manifest.json');
    if (!existsSync(configPath) || !existsSync(manifestPath)) throw new Error('no config.json or manifest.json');
    const config = readJson(configPath);
    const files = readJson(manifestPath).files ?? {};
    for (const [name, entry] of Object.entries(files)) {
      const path = join(folder, name);
      const size = existsSync(path) ? statSync(path).size : -1;
      if (size !== Number(entry.bytes ?? entry.size)) throw new Error(`${name}: ${size} bytes on disk, manifest says ${entry.bytes ?? entry.size}`);
    }
    for (const needed of ['model.safetensors', 'tokenizer.json']) if (!files[needed]) throw new Error(`manifest lists no ${needed}`);
    const download = ['config.json', 'model.safetensors', 'tokenizer.json', 'manifest.json']
      .map((n) => (existsSync(join(folder, n)) ? statSync(join(folder, n)).size : 0))
      .reduce((a, b) => a + b, 0);
    if (config.quantization?.source_eval) sourceEvals.set(id, config.quantization.source_eval);
    models.push({
      id,
      kind: config.kind,
      parameters: parameterCount(config),
      downloadBytes: download,
      memoryBytes: memoryBytes(join(folder, 'model.safetensors')),
      dtype: config.dtype,
      ...(config.quantization ? { quantized: { from: config.quantization.from, group_size: config.quantization.group_size, compensation: config.quantization.compensation } } : {}),
      dim: config.dim,
      n_layers: config.n_layers,
      max_seq_len: config.max_seq_len,
      vocab_size: config.vocab_size,
      ...(config.eval && Object.keys(config.eval).length ? { eval: config.eval } : {}),
    });
  } catch (err) {
    skipped.push(`${id} (${err.message})`);
  }
}

// an int8 model says whether its quality holds against its float source (the app prefers it then)
for (const m of models) {
  if (!m.quantized) continue;
  // the float source's eval: from its own folder where it ships, else the copy export.py keeps
  // in the int8 config (quantization.source_eval)
  const src = models.find((o) => o.id === m.quantized.from);
  m.quantized.qualityHolds = qualityHolds(m.eval, src?.eval ?? sourceEvals.get(m.id));
}

const out = join(dir, 'index.json');
if (existsSync(dir)) {
  writeFileSync(out, `${JSON.stringify({ format: 1, models }, null, 1)}\n`);
  console.log(`models-index: ${models.length} model(s) in ${out}: ${models.map((m) => `${m.id} (${m.kind})`).join(', ') || 'none'}`);
}
if (skipped.length) console.log(`models-index: skipped ${skipped.join('; ')}`);
