// Infill benchmark: `npm run bench:infill [-- options]` (Node, our CPU engine). The held-out line
// holes of training/eval.py (infill_cases, its cut of --context tokens: by default 256, the app's
// layout at the models' context, 116 prefix + 24 masks + 116 suffix tokens), the shipped models,
// the real sampler, greedy:
//
//   ar        the autoregressive twin, prefix only (its last context - 24 tokens), prefill then one
//             decodeStep per token until the line ends (a newline after the first token), as
//             eval.py's ar_generate
//   decoded   diffusion, Fill with the app's default decoding and no candidates (the fill as it
//             is decoded, suffix first in the cache)
//   ranked@K  the same plus K beams and the lines in view, each scored by how likely the suffix
//             reads after it + 0.75 x the fill's own likelihood, the scores' consensus picked
//             (InfillRequest.candidates; the app's Fill uses K = settings fillCandidates)
//   app@K     ranked@K with the Python syntax check as the app's Fill runs it (Settings → Syntax
//             check, on by default): the decoded fill's tokens through the syntax gate, and
//             candidates that put an unfixable syntax error after the prefix left out
//
// Per configuration: exact match and mean difflib similarity of the filled line (eval.py's rule,
// computed by bench/syntax.py similarity), ms and forwards per fill, and ms against `decoded` and
// `ar`. Hole by hole the configurations take turns, so drift on a shared machine falls on all.
// Writes bench/results/infill-cpu-NT-<diffusion model>.json and prints a markdown table.
//
// Options:
//   --diffusion ID   (default qs-code-diffusion-small-v3-int8)   --ar ID (default: diffusion→ar)
//   --cases N        holes (default 100, eval.py's --n-infill)
//   --candidates 4,8 the ranked@K rows (default 8)
//   --app 8          also the app@K rows (default none)
//   --heldout FILE   documents (default training/data/corpus/heldout.jsonl)
//   --context T      tokens of prefix + masks + suffix (default 256; eval.py --infill-context; 128 before 2026-12-06)
//   --threads N      CPU engine threads (default 1)
//   --out FILE       results file

import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { infill } from '../src/diffusion';
import { pythonSyntaxError, pythonTail } from '../src/diffusion/pythonSyntax';
import type { AutoregressiveModel, DiffusionModel } from '../src/engine/types';
import type { CodeTokenizer } from '../src/tokenizer';
import { DEFAULT_SETTINGS, knobsFor } from '../src/ui/settings';
import { loadLocal } from './generate.bench';

const MODELS = 'public/models';

interface Hole {
  prefix: number[];
  suffix: number[];
  arPrefix: number[];
  line: string;
  /** No budget cut the suffix: it is the text's end (eval.py suffix_reaches_end; the app's Fill says so too). */
  suffixEndsText: boolean;
}

interface Run {
  text: string;
  ms: number;
  forwards: number;
}

/** The twin's line: greedy from the prefix until a newline after its first token, eos, or 24 tokens. */
async function arLine(model: AutoregressiveModel, tok: CodeTokenizer, prefix: number[], n: number): Promise<Run> {
  const started = performance.now();
  const opts = { temperature: 0, seed: 0, step: 0 };
  const out: number[] = [];
  let d = await model.prefill(Int32Array.from(prefix), opts);
  let forwards = 1;
  while (out.length < n) {
    const t = d.token[0]!;
    if (t === model.config.special_tokens.eos) break;
    out.push(t);
    const text = tok.decode(out);
    if (text.replace(/^\n/, '').includes('\n') || out.length === n) break;
    d = await model.decodeStep(t, opts);
    forwards++;
  }
  return { text: tok.decode(out), ms: performance.now() - started, forwards };
}

export async function main(argv: string[]): Promise<void> {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  const diffusionId = value('diffusion') ?? 'qs-code-diffusion-small-v3-int8';
  const arId = value('ar') ?? diffusionId.replace('diffusion', 'ar');
  const nCases = Number(value('cases') ?? 100);
  const widths = (value('candidates') ?? '8').split(',').map(Number);
  const threads = Number(value('threads') ?? 1);
  const heldout = value('heldout') ?? 'training/data/corpus/heldout.jsonl';
  const asked = Number(value('context') ?? 256);
  if (!Number.isInteger(asked) || asked <= 24) throw new Error(`--context must be an integer above the 24 masks, got ${value('context')}`);
  if (!existsSync(heldout)) throw new Error(`${heldout}: no such file (the held-out split: training/prepare_data.py)`);
  const diff = await loadLocal(diffusionId, null, threads); // our CPU engine
  const ar = await loadLocal(arId, null, threads);
  const context = Math.min(asked, diff.model.config.max_seq_len); // capped by the model's context, as eval.py's budget
  const holes = JSON.parse(execFileSync('python3', ['bench/syntax.py', 'infill', heldout, String(nCases), join(MODELS, diffusionId, 'tokenizer.json'), String(context)], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Hole[];
  const knobs = knobsFor(DEFAULT_SETTINGS, 24);
  const appWidths = (value('app') ?? '').split(',').filter(Boolean).map(Number);
  const configs = ['ar', 'decoded', ...widths.map((k) => `ranked@${k}`), ...appWidths.map((k) => `app@${k}`)];
  const runs: Record<string, Run[]> = Object.fromEntries(configs.map((c) => [c, []]));
  const dm = diff.model as DiffusionModel;
  const decode = (ids: number[]) => diff.tokenizer.decode(ids); // one function, as the app's host: its token texts are cached by it
  for (const [i, h] of holes.entries()) {
    for (const c of configs) {
      if (c === 'ar') {
        runs[c]!.push(await arLine(ar.model as AutoregressiveModel, ar.tokenizer, h.arPrefix, 24));
        continue;
      }
      const candidates = c === 'decoded' ? 1 : Number(c.split('@')[1]);
      const hooks = c.startsWith('app@') ? { decode, syntax: pythonSyntaxError, tail: pythonTail } : { decode };
      // every hole begins a line (the newline before the line is in the hole), as a Fill of whole lines: the host would say so
      const r = await infill(dm, { ...knobs, prefix: h.prefix, suffix: h.suffix, suffixEndsText: h.suffixEndsText, fillBeginsLine: true, genLength: 24, candidates }, hooks);
      runs[c]!.push({ text: r.text ?? '', ms: r.stats.ms, forwards: r.stats.forwards });
    }
    if ((i + 1) % 20 === 0) console.log(`${i + 1}/${holes.length} holes`);
  }
  const rows = configs.map((c) => {
    const scores = JSON.parse(execFileSync('python3', ['bench/syntax.py', 'similarity'], {
      input: JSON.stringify(runs[c]!.map((r, i) => ({ got: r.text, line: holes[i]!.line }))), encoding: 'utf8',
    })) as [boolean, number][];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      config: c,
      exact: mean(scores.map((s) => (s[0] ? 1 : 0))),
      similarity: mean(scores.map((s) => s[1])),
      msPerFill: mean(runs[c]!.map((r) => r.ms)),
      forwardsPerFill: mean(runs[c]!.map((r) => r.forwards)),
    };
  });
  const base = (c: string) => rows.find((r) => r.config === c)!.msPerFill;
  const f = (x: number, d = 3) => x.toFixed(d);
  const table = [
    '| config | exact | similarity | ms per fill | forwards per fill | ms ÷ decoded | ms ÷ ar |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.config} | ${f(r.exact, 2)} | ${f(r.similarity)} | ${f(r.msPerFill, 1)} | ${f(r.forwardsPerFill, 1)} | ${f(r.msPerFill / base('decoded'), 2)} | ${f(r.msPerFill / base('ar'), 2)} |`),
  ].join('\n');
  console.log(table);
  const out = value('out') ?? `bench/results/infill-cpu-${threads}T-${diffusionId}.json`;
  writeFileSync(out, JSON.stringify({
    date: new Date().toISOString(), command: `npm run bench:infill -- ${argv.join(' ')}`.trim(),
    machine: `${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores), our CPU engine, ${threads} thread${threads > 1 ? 's' : ''}`,
    diffusion: diffusionId, ar: arId, holes: holes.length, context, knobs, rows,
    fills: Object.fromEntries(configs.map((c) => [c, runs[c]!.map((r) => r.text)])),
  }, null, 1));
  console.log(`wrote ${out}`);
}
