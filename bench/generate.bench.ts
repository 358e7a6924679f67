// Generation benchmark: `npm run bench:generate [-- options]` (Node, the `webgpu` package;
// SwiftShader here). The real shipped models, the real samplers, the same prompts and span lengths:
//
//   ar         the autoregressive twin with its KV cache (prefill, then one decodeStep per token)
//   default    diffusion with the app's default settings (src/ui/settings.ts DEFAULT_SETTINGS →
//              knobsFor, --tau overrides τ): for a block-causal model, cached block steps of its
//              block_size, drafts verified by the AR head (commitOrder 'verify'), sized by the
//              engine's row cost (the CPU engine's model.rowCost); without the syntax check,
//              as Race runs it
//   syntax     default with the sampler's Python syntax check (Generate's default: errors and
//              an end that must stay reachable, src/diffusion/syntaxGate.ts)
//   nolookup   default without drafts copied from the text (lookup 0): the block's drafts only
//   freerows   default with drafts sized as if rows were free (rowCost 0: the rule before)
//   match2     default with copies only after a 2- or 3-token match (lookupMatch 2: the rule
//              before 2026-12-04; the default also copies after the last token alone)
//   verify     block-causal diffusion, self-speculative: the block drafts, the AR head verifies
//              (commitOrder 'verify', drafts above --tau), blocks of at most --block (draftLength
//              'adaptive': the last run of confident drafts + 2 mask rows)
//   verifyblock  the same with draftLength 'block': always --block mask rows
//   inorder    diffusion, threshold τ, commitOrder leftToRight (the run of confident positions
//              from the block's first mask), blocks of the model's default
//   onetok     diffusion, one token per step left to right in blocks of the model's default
//              (the quality reference for parallel decoding)
//   fixed      diffusion, fixed schedule, --k tokens per step (default 1: LLaDA's default), one block
//   threshold  diffusion, adaptive threshold --tau (Fast-dLLM style), by confidence, the model's
//              default block (one block for full-attention models)
//   blocks     diffusion, semi-autoregressive blocks of --block positions, threshold --tau inside,
//              by confidence
//   margin     blocks, by margin (top-1 - top-2 probability) >= τ
//   eb         the EB-sampler (schedule entropyBound): in blocks of --block, the lowest-entropy
//              positions whose summed entropy less the largest is <= γ nats (the config's @value;
//              without one, --tau is taken as γ); ebinorder: the run from the block's first mask
//   drafttau, drafteb  verify with the block's drafts alone (lookup 0), rows free (rowCost 0, as a
//              GPU), drafted while >= τ, or under the EB budget γ: the text is the AR head's
//   blocksdual, defaultdual  blocks / default with Fast-dLLM's DualCache (full-attention models)
//
// All greedy (temperature 0). Per configuration and span length: new tokens (real tokens, eos/pad
// excluded), forward passes, forwards / readbacks / bytes read back per generated token (engine
// counters), ms, tokens/s, syntax-valid rate (training/eval.py's rule: the header plus the body cut
// at its first dedent, or without its last possibly-cut line, must pass ast.parse; all checks in
// one Python call, bench/syntax.py), and the ratios diffusion / AR for tokens/s and forwards/token.
// Prompt by prompt, the configurations take turns, so a drift in the machine's speed falls on
// all of them. Prompts: function headers from the held-out split (training/eval.py's function_prompts) when
// training/data/corpus/heldout.jsonl exists, else bench/prompts.json (the same headers, committed).
//
// Writes bench/results/generate-<adapter or cpu-NT>-<diffusion model>.json, prints a markdown table, and
// replaces this run's section of bench/README.md.
//
// Options:
//   --quick               3 prompts, 64 new tokens only
//   --size tiny|small     picks qs-code-diffusion-<size> and qs-code-ar-<size> (default tiny)
//   --diffusion ID        diffusion model folder under public/models/, or a path with a '/' (overrides --size)
//   --ar ID               autoregressive model folder (default: the diffusion id with diffusion→ar)
//   --prompts N           number of prompts (default 10)
//   --heldout FILE        take the prompts' `def` headers from this JSON-lines file of {"text": ...}
//                         (default training/data/corpus/heldout.jsonl; e.g. code outside the corpus)
//   --prompt-kind cursor  prompts are the files' text before a cursor (the last ~480 characters
//                         up to a line end, the next line in a block: bench/syntax.py cursors), as for
//                         a completion; no syntax-valid rate then
//   --prompt-kind partial the same places with the first half of the next line typed (the cursor at
//                         the end of a half-written line)
//   --lengths 64,128,256  span lengths; each is capped by the models' context minus the longest prompt
//   --configs ar,default,onetok,fixed,threshold,blocks,eb,...   (each may carry its own τ: default@0.7; for eb/ebinorder it is γ in nats)
//   --tau 0.9  --block 32  --k 1
//   --engine webgpu|cpu   our WebGPU engine (default) or our CPU engine (WASM SIMD)
//   --threads N           CPU engine threads (default 1)
//   --parallel-work W     CPU engine: ops with less work (flop-like units) stay on the calling thread
//                         (default the engine's, runtime.ts PARALLEL_WORK)
//   --stop line|block     every configuration (the twin too) stops where a completion at the cursor
//                         ends (SamplerKnobs.stopAt, src/diffusion/stopRule.ts, after the prompt's
//                         last line; the inline completions' 'block' at a line end): the time to the
//                         whole suggestion; ms per prompt and tokens per prompt are in the results
//   --row-cost R          the diffusion configurations' rowCost (default: the engine's; CPU 0.45)
//   --no-readme           do not touch bench/README.md
//   --out FILE            results file instead of bench/results/generate-<adapter>-<model>.json (and
//                         its own bench/README.md section, named after the file)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { generate, generateAutoregressive, type GenerateRequest, type SampleResult, type StopAt } from '../src/diffusion';
import { reachedStop } from '../src/diffusion/stopRule';
import { requestDevice } from '../src/engine/device';
import { loadModel, type EngineModel, type ModelFiles } from '../src/engine/load';
import { CpuAutoregressiveModel, CpuDiffusionModel, loadCpuModel, type CpuEngineModel } from '../src/engine/cpu';
import { GpuAutoregressiveModel, GpuDiffusionModel } from '../src/engine/models';
import { nodeGPU } from '../src/test/nodeGpu';
import { CodeTokenizer, type TokenizerJSON } from '../src/tokenizer';
import { DEFAULT_SETTINGS, knobsFor } from '../src/ui/settings';
import { pythonSyntaxError, pythonTail } from '../src/diffusion/pythonSyntax';

const MODELS = 'public/models';
const HELDOUT = 'training/data/corpus/heldout.jsonl';
const FALLBACK = 'bench/prompts.json';
const ALL_CONFIGS = ['ar', 'default', 'syntax', 'nolookup', 'freerows', 'match2', 'verify', 'verifyblock', 'onetok', 'inorder', 'fixed', 'threshold', 'blocks', 'blocksdual', 'defaultdual', 'eb', 'ebinorder', 'margin', 'drafttau', 'drafteb'] as const;
type BaseConfig = (typeof ALL_CONFIGS)[number];
/** A configuration, optionally with its own threshold: 'default', 'default@0.7', 'blocks@0.5'. */
type ConfigName = BaseConfig | `${BaseConfig}@${string}`;

function splitConfig(c: ConfigName, o: Options): { base: BaseConfig; tau: number } {
  const [base, tau] = c.split('@') as [BaseConfig, string | undefined];
  return { base, tau: tau === undefined ? o.tau : Number(tau) };
}

interface Options {
  quick: boolean;
  diffusion: string;
  ar: string;
  prompts: number;
  lengths: number[];
  configs: ConfigName[];
  tau: number;
  block: number;
  k: number;
  readme: boolean;
  engine: 'webgpu' | 'cpu';
  threads: number;
  parallelWork: number | undefined;
  /** Results file (default bench/results/generate-<adapter>-<model>.json). */
  out?: string;
  /** The prompts' source: a JSON-lines file of {"text": ...} documents (default the held-out split). */
  heldout: string;
  /** `def` headers (the syntax-valid rate is measured), or file text cut at a cursor (completion). */
  promptKind: 'header' | 'cursor' | 'partial';
  /** Stop where a completion at the cursor ends (hooks.stop), for every configuration. */
  stop?: StopAt;
  /** rowCost of the diffusion configurations (default the engine's). */
  rowCost?: number;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const quick = argv.includes('--quick');
  const size = value('size') ?? 'tiny';
  const diffusion = value('diffusion') ?? `qs-code-diffusion-${size}`;
  const ar = value('ar') ?? diffusion.replace('diffusion', 'ar');
  const configs = (value('configs') ?? ALL_CONFIGS.join(',')).split(',') as ConfigName[];
  for (const c of configs) {
    const [base, tau] = c.split('@');
    if (!ALL_CONFIGS.includes(base as BaseConfig)) throw new Error(`unknown config ${c} (have ${ALL_CONFIGS.join(', ')}, each optionally @tau)`);
    const gamma = /^(eb|drafteb)/.test(base); // its value is the EB budget in nats, not a τ
    if (tau !== undefined && gamma && !(Number(tau) > 0 && Number.isFinite(Number(tau)))) throw new Error(`config ${c}: gamma must be > 0 (nats)`);
    if (tau !== undefined && !gamma && !(Number(tau) > 0 && Number(tau) <= 1)) throw new Error(`config ${c}: tau must be in (0, 1]`);
  }
  const num = (name: string, dflt: number) => {
    const v = value(name);
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  return {
    quick,
    diffusion,
    ar,
    prompts: num('prompts', quick ? 3 : 10),
    lengths: (value('lengths') ?? (quick ? '64' : '64,128,256')).split(',').map(Number),
    configs,
    tau: num('tau', DEFAULT_SETTINGS.tau),
    block: num('block', 32),
    k: num('k', 1),
    readme: !argv.includes('--no-readme'),
    engine: value('engine') === 'cpu' ? 'cpu' : 'webgpu',
    threads: num('threads', 1),
    parallelWork: value('parallel-work') === undefined ? undefined : num('parallel-work', 0),
    out: value('out'),
    heldout: value('heldout') ?? HELDOUT,
    promptKind: promptKindOption(value('prompt-kind')),
    stop: stopOption(value('stop')),
    rowCost: rowCostOption(value('row-cost')),
  };
}

/** What each --prompt-kind's prompts are, in the README section's words (bench/syntax.py makes them). */
const PROMPT_KINDS: Record<Options['promptKind'], string> = {
  header: 'function-header prompts',
  cursor: 'prompts cut at the end of a line in a file, the next line indented (a cursor)',
  partial: 'prompts cut halfway through an indented line in a file (a cursor in a half-written line)',
};

function promptKindOption(v: string | undefined): Options['promptKind'] {
  if (v !== undefined && v !== 'header' && v !== 'cursor' && v !== 'partial') throw new Error(`--prompt-kind must be header, cursor or partial, got ${v}`);
  return v ?? 'header';
}

function rowCostOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const r = Number(v);
  if (!(r >= 0 && r <= 1)) throw new Error(`--row-cost must be a number in [0, 1], got ${v}`);
  return r;
}

function stopOption(v: string | undefined): StopAt | undefined {
  if (v !== undefined && v !== 'line' && v !== 'block') throw new Error(`--stop must be line or block, got ${v}`);
  return v;
}

/** A model folder of public/models/ on our WebGPU engine (device) or CPU engine (threads; parallelWork: the engine's default unless given). */
export async function loadLocal(id: string, device: GPUDevice | null, threads: number, parallelWork?: number): Promise<{ model: EngineModel | CpuEngineModel; tokenizer: CodeTokenizer }> {
  const dir = id.includes('/') ? id : join(MODELS, id); // a folder name under public/models, or a path
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`no model at ${dir}/ (have: ${listModels().join(', ')})`);
  const files: ModelFiles = {};
  for (const name of ['config.json', 'model.safetensors', 'manifest.json']) {
    if (existsSync(join(dir, name))) files[name] = new Uint8Array(readFileSync(join(dir, name)));
  }
  const verify = 'manifest.json' in files;
  const model = device ? await loadModel(files, device, undefined, { verify }) : await loadCpuModel(files, undefined, { verify, threads, parallelWork });
  const tokenizer = new CodeTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJSON);
  return { model, tokenizer };
}

function listModels(): string[] {
  try {
    return (JSON.parse(readFileSync(join(MODELS, 'index.json'), 'utf8')) as { models: { id: string }[] }).models.map((m) => m.id);
  } catch {
    return [];
  }
}

function python(args: string[], input?: string): string {
  return execFileSync('python3', ['bench/syntax.py', ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
}

function loadPrompts(n: number, heldout: string, kind: Options['promptKind']): { prompts: string[]; source: string } {
  if (heldout !== HELDOUT && !existsSync(heldout)) throw new Error(`--heldout ${heldout}: no such file`);
  if (kind !== 'header' && !existsSync(heldout)) throw new Error(`--prompt-kind ${kind} needs ${heldout}`);
  if (existsSync(heldout)) return { prompts: JSON.parse(python([kind === 'cursor' ? 'cursors' : kind === 'partial' ? 'partial' : 'prompts', heldout, String(n)])) as string[], source: heldout };
  const all = (JSON.parse(readFileSync(FALLBACK, 'utf8')) as { prompts: string[] }).prompts;
  return { prompts: all.slice(0, n), source: FALLBACK };
}

interface Run {
  config: ConfigName;
  genLength: number;
  prompt: number;
  tokens: number;
  forwards: number;
  steps: number;
  readbacks: number;
  bytesReadBack: number;
  dispatches: number;
  ms: number;
  finishReason: SampleResult['finishReason'];
  text: string;
  syntaxOk?: boolean;
  /** The syntax hook's counts (config syntax): tokens turned down, extra forwards, parses, parse ms. */
  syntax?: { rejected: number; forwards: number; parses: number; parseMs: number };
}

interface Row {
  config: string;
  genLength: number;
  prompts: number;
  newTokens: number;
  /** Runs that ended with an eos/pad before the span was full. */
  endedByEos: number;
  /** Runs that stopped where the suggestion ends (--stop). */
  endedByStop: number;
  forwards: number;
  forwardsPerToken: number;
  readbacksPerToken: number;
  dispatchesPerToken: number;
  bytesPerToken: number;
  ms: number;
  tokensPerSecond: number;
  syntaxValid: number;
  tpsVsAr?: number;
  fptVsAr?: number;
}

const r2 = (x: number, d = 2) => (Number.isFinite(x) ? +x.toFixed(d) : NaN);
/** A table cell: '—' where a per-token number has no tokens to divide by. */
const cell = (x: number | undefined, d = 2) => (x === undefined ? '' : Number.isFinite(x) ? String(r2(x, d)) : '—');

function describeConfig(c: ConfigName, o: Options): string {
  const { base, tau } = splitConfig(c, o);
  switch (base) {
    case 'ar':
      return 'AR + KV cache';
    case 'default':
      return `default (τ=${tau})`;
    case 'syntax':
      return `default (τ=${tau}) + syntax check (Generate's default)`;
    case 'nolookup':
      return `default (τ=${tau}), no drafts copied from the text`;
    case 'freerows':
      return `default (τ=${tau}), drafts sized as if rows were free (rowCost 0)`;
    case 'match2':
      return `default (τ=${tau}), copies only after a 2- or 3-token match (lookupMatch 2)`;
    case 'onetok':
      return 'diffusion 1 tok/step, in order';
    case 'verify':
      return `draft + verify, ≤ ${o.block} rows, drafts ≥ ${tau}`;
    case 'verifyblock':
      return `draft + verify, ${o.block} rows, drafts ≥ ${tau}`;
    case 'inorder':
      return `diffusion in order, τ=${tau}`;
    case 'fixed':
      return o.k === 1 ? 'diffusion fixed, 1 tok/step' : `diffusion fixed, ${o.k} tok/step`;
    case 'threshold':
      return `diffusion by confidence, τ=${tau}`;
    case 'blocks':
      return `diffusion blocks ${o.block}, τ=${tau}`;
    case 'blocksdual':
      return `diffusion blocks ${o.block}, τ=${tau}, DualCache (full-attention models)`;
    case 'defaultdual':
      return `default (τ=${tau}), DualCache (full-attention models)`;
    case 'eb':
      return `EB-sampler blocks ${o.block}, γ=${tau} nats, lowest entropy first`;
    case 'ebinorder':
      return `EB-sampler blocks ${o.block}, γ=${tau} nats, in order`;
    case 'margin':
      return `diffusion blocks ${o.block}, margin ≥ ${tau}`;
    case 'drafttau':
      return `draft + verify, block drafts ≥ ${tau}, rows free, no copies`;
    case 'drafteb':
      return `draft + verify, block drafts under γ=${tau} nats, rows free, no copies`;
  }
}

function request(c: ConfigName, prompt: number[], genLength: number, o: Options): GenerateRequest {
  const base: GenerateRequest = { prompt, genLength, temperature: 0 };
  const { base: kind, tau } = splitConfig(c, o);
  switch (kind) {
    case 'ar':
      return base;
    case 'default': // the app's default decoding, as Race runs it (without the syntax check)
      return { ...knobsFor({ ...DEFAULT_SETTINGS, tau, syntaxCheck: false }, genLength), prompt, truncate: false };
    case 'syntax': // the same with the sampler's Python syntax hook (src/diffusion/syntaxGate.ts): Generate's default
      return { ...knobsFor({ ...DEFAULT_SETTINGS, tau, syntaxCheck: true }, genLength), prompt, truncate: false };
    case 'onetok':
      return { ...base, schedule: { kind: 'fixed', tokensPerStep: 1 }, commitOrder: 'leftToRight' };
    case 'nolookup': // the same without prompt-lookup drafts (GenerateRequest.lookup 0)
      return { ...knobsFor({ ...DEFAULT_SETTINGS, tau, syntaxCheck: false }, genLength), prompt, truncate: false, lookup: 0 };
    case 'freerows': // the same with drafts not sized by the engine's row cost (GenerateRequest.rowCost 0)
      return { ...knobsFor({ ...DEFAULT_SETTINGS, tau, syntaxCheck: false }, genLength), prompt, truncate: false, rowCost: 0 };
    case 'match2': // the same with copies after 2- or 3-token matches only (GenerateRequest.lookupMatch 2)
      return { ...knobsFor({ ...DEFAULT_SETTINGS, tau, syntaxCheck: false }, genLength), prompt, truncate: false, lookupMatch: 2 };
    case 'verify':
      return { ...base, schedule: { kind: 'threshold', tau }, commitOrder: 'verify', blockLength: o.block };
    case 'verifyblock':
      return { ...base, schedule: { kind: 'threshold', tau }, commitOrder: 'verify', blockLength: o.block, draftLength: 'block' };
    case 'fixed':
      return { ...base, schedule: o.k === 1 ? { kind: 'fixed', steps: genLength } : { kind: 'fixed', tokensPerStep: o.k }, commitOrder: 'confidence' };
    case 'threshold':
      return { ...base, schedule: { kind: 'threshold', tau }, commitOrder: 'confidence' };
    case 'inorder':
      return { ...base, schedule: { kind: 'threshold', tau }, commitOrder: 'leftToRight' };
    case 'blocks':
      return { ...base, schedule: { kind: 'threshold', tau }, blockLength: o.block, commitOrder: 'confidence' };
    case 'blocksdual': // the same with Fast-dLLM's DualCache (GenerateRequest.dualCache; full-attention models)
      return { ...base, schedule: { kind: 'threshold', tau }, blockLength: o.block, commitOrder: 'confidence', dualCache: true };
    case 'defaultdual':
      return { ...knobsFor({ ...DEFAULT_SETTINGS, tau, syntaxCheck: false }, genLength), prompt, truncate: false, dualCache: true };
    case 'eb': // the EB-sampler's entropy budget (tau is gamma here), most confident (lowest entropy) first
      return { ...base, schedule: { kind: 'entropyBound', gamma: tau }, blockLength: o.block, commitOrder: 'confidence', confidence: 'entropy' };
    case 'ebinorder':
      return { ...base, schedule: { kind: 'entropyBound', gamma: tau }, blockLength: o.block, commitOrder: 'leftToRight' };
    case 'margin':
      return { ...base, schedule: { kind: 'threshold', tau }, blockLength: o.block, commitOrder: 'confidence', confidence: 'margin' };
    // the block's own drafts as a GPU would run them (rows free, nothing copied): which draft rule
    // gives more tokens per forward; the text is the AR head's either way
    case 'drafttau':
      return { ...base, schedule: { kind: 'threshold', tau }, commitOrder: 'verify', blockLength: o.block, rowCost: 0, lookup: 0 };
    case 'drafteb':
      return { ...base, schedule: { kind: 'entropyBound', gamma: tau }, commitOrder: 'verify', blockLength: o.block, rowCost: 0, lookup: 0 };
  }
}

function markdownTable(rows: Row[], o: Options): string {
  const head = '| configuration | span | prompts | new tokens / prompt | ended by eos | forwards | tokens / forward | dispatches / token | readbacks / token | bytes read back / token | ms | ms / prompt | tokens/s | syntax-valid | tokens/s ÷ AR | forwards/token ÷ AR |';
  const sep = '|' + ' --- |'.repeat(16);
  const lines = rows.map((r) =>
    [
      describeConfig(r.config as ConfigName, o),
      r.genLength,
      r.prompts,
      cell(r.newTokens / r.prompts, 1),
      `${r.endedByEos}/${r.prompts}${r.endedByStop ? ` (${r.endedByStop} stopped)` : ''}`,
      r.forwards,
      cell(1 / r.forwardsPerToken, 2),
      cell(r.dispatchesPerToken, 1),
      cell(r.readbacksPerToken, 3),
      cell(r.bytesPerToken, 1),
      Math.round(r.ms),
      Math.round(r.ms / r.prompts),
      cell(r.tokensPerSecond, 2),
      Number.isNaN(r.syntaxValid) ? "—" : `${Math.round(r.syntaxValid * r.prompts)}/${r.prompts}`,
      cell(r.tpsVsAr, 2),
      cell(r.fptVsAr, 2),
    ].join(' | '),
  );
  return [head, sep, ...lines.map((l) => `| ${l} |`)].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  const t0 = performance.now();
  const gpu = o.engine === 'webgpu' ? await requestDevice(nodeGPU()) : null;
  const device = gpu?.device ?? null;
  const info = gpu?.info ?? { vendor: 'cpu', architecture: `cpu-${o.threads}T`, description: `our CPU engine (WASM SIMD, ${o.threads} thread${o.threads > 1 ? 's' : ''})`, isFallbackAdapter: false };
  const adapter = (info.architecture || info.vendor || 'unknown').replace(/[^a-z0-9_-]/gi, '_');
  console.log(`adapter: ${info.vendor} ${info.architecture} ${info.description} (fallback: ${info.isFallbackAdapter})`);

  const needAr = o.configs.includes('ar');
  const needDiff = o.configs.some((c) => c !== 'ar');
  const diff = needDiff ? await loadLocal(o.diffusion, device, o.threads, o.parallelWork) : null;
  const ar = needAr ? await loadLocal(o.ar, device, o.threads, o.parallelWork) : null;
  if (diff && !(diff.model instanceof GpuDiffusionModel || diff.model instanceof CpuDiffusionModel)) throw new Error(`${o.diffusion} is not a diffusion model`);
  if (ar && !(ar.model instanceof GpuAutoregressiveModel || ar.model instanceof CpuAutoregressiveModel)) throw new Error(`${o.ar} is not an autoregressive model`);
  const dModel = diff?.model as GpuDiffusionModel | CpuDiffusionModel | undefined;
  const aModel = ar?.model as GpuAutoregressiveModel | CpuAutoregressiveModel | undefined;
  const tokenizer = (diff ?? ar)!.tokenizer;
  if (diff && ar && JSON.stringify(diff.model.config.special_tokens) !== JSON.stringify(ar.model.config.special_tokens)) {
    throw new Error('the two models do not share special tokens: not twins');
  }
  for (const m of [dModel, aModel]) if (m) console.log(`model: ${m.config.kind} dim ${m.config.dim}, ${m.config.n_layers} layers, ${m.parameterCount} params, context ${m.config.max_seq_len}, matmul ${m.matmulVariant}`);

  const { prompts, source } = loadPrompts(o.prompts, o.heldout, o.promptKind);
  const context = Math.min(...[dModel, aModel].filter((m) => m).map((m) => m!.config.max_seq_len));
  // cursor prompts: whole leading lines dropped until the longest span fits after them
  if (o.promptKind !== 'header') {
    const room = context - Math.max(...o.lengths);
    prompts.forEach((p, i) => {
      while (tokenizer.encode(p).length > room && p.includes('\n')) p = p.slice(p.indexOf('\n') + 1);
      prompts[i] = p;
    });
  }
  const promptIds = prompts.map((p) => tokenizer.encode(p));
  const longest = Math.max(...promptIds.map((p) => p.length));
  const cap = context - longest;
  if (cap < 1) throw new Error(`the longest prompt (${longest} tokens) leaves no room in a context of ${context}`);
  const lengths = [...new Set(o.lengths.map((l) => Math.min(l, cap)))];
  console.log(`prompts: ${prompts.length} from ${source} (longest ${longest} tokens); spans ${lengths.join(', ')} (context ${context})`);

  // Warm-up: the first passes of each model pay for first-use costs (pipeline caches, buffers).
  if (dModel) await generate(dModel, { prompt: promptIds[0], genLength: 8, temperature: 0 });
  if (aModel) await generateAutoregressive(aModel, { prompt: promptIds[0], genLength: 8, temperature: 0 });

  // Prompt by prompt, every configuration in turn (A B C A B C ...): a drift in the machine's
  // speed (it is shared) falls on all of them alike, so the ratios hold. Before each timed run an
  // untimed 4-token run of the same model and configuration on the next prompt: its weights are
  // back in the caches after the other model's run, as they are for a configuration that follows
  // one of its own, and its KV cache holds another text (a warm-up on the same prompt left the
  // diffusion model's block cache holding it, a prefill its twin then paid for and it did not).
  const runs: Run[] = [];
  const decodeIds = (ids: number[]) => tokenizer.decode(ids); // one function: the syntax gate caches token texts by it
  for (const genLength of lengths) {
    for (const [pi, prompt] of promptIds.entries()) {
      for (const config of o.configs) {
        const model = config === 'ar' ? aModel! : dModel!;
        const warm = request(config, promptIds[(pi + 1) % promptIds.length]!, 4, o);
        if (config === 'ar') await generateAutoregressive(aModel!, warm);
        else await generate(dModel!, { ...warm, syntaxCheck: false });
        const c0 = { ...model.counters };
        const req = { ...request(config, prompt, genLength, o), ...(o.rowCost !== undefined && config !== 'ar' && config !== 'freerows' ? { rowCost: o.rowCost } : {}) };
        const text = prompts[pi]!;
        const stop = o.stop ? { decode: decodeIds, stop: (t: string) => reachedStop(t, text.slice(text.lastIndexOf('\n') + 1), o.stop!) } : {};
        const hooks = { ...stop, ...(req.syntaxCheck ? { decode: decodeIds, syntax: pythonSyntaxError, tail: pythonTail } : {}) };
        const res = config === 'ar' ? await generateAutoregressive(aModel!, req, hooks) : await generate(dModel!, req, hooks);
        const c1 = model.counters;
        runs.push({
          config,
          genLength,
          prompt: pi,
          tokens: res.stats.tokensGenerated,
          forwards: c1.forwards - c0.forwards,
          steps: res.stats.steps,
          readbacks: c1.readbacks - c0.readbacks,
          dispatches: c1.dispatches - c0.dispatches,
          bytesReadBack: c1.bytesReadBack - c0.bytesReadBack,
          ms: res.stats.ms,
          finishReason: res.finishReason,
          text: tokenizer.decode(res.generated),
          ...(res.stats.syntax ? { syntax: res.stats.syntax } : {}),
        });
        if (res.stats.forwards !== c1.forwards - c0.forwards) throw new Error(`sampler counted ${res.stats.forwards} forwards, engine ${c1.forwards - c0.forwards}`);
      }
    }
    for (const config of o.configs) {
      const last = runs.filter((r) => r.config === config && r.genLength === genLength);
      const tok = last.reduce((s, r) => s + r.tokens, 0);
      const ms = last.reduce((s, r) => s + r.ms, 0);
      console.log(`  ${describeConfig(config, o).padEnd(32)} span ${genLength}: ${tok} tokens, ${last.reduce((s, r) => s + r.forwards, 0)} forwards, ${(ms / 1000).toFixed(1)} s`);
    }
  }

  // One Python call checks every generated function (cursor prompts: no rule, no rate).
  if (o.promptKind === 'header') {
    const ok = JSON.parse(python(['check'], JSON.stringify(runs.map((r) => ({ head: prompts[r.prompt], body: r.text }))))) as boolean[];
    runs.forEach((r, i) => (r.syntaxOk = ok[i]));
  }

  const rows: Row[] = [];
  for (const genLength of lengths) {
    const group: Row[] = [];
    for (const config of o.configs) {
      const rs = runs.filter((r) => r.config === config && r.genLength === genLength);
      const sum = (f: (r: Run) => number) => rs.reduce((s, r) => s + f(r), 0);
      const tokens = sum((r) => r.tokens);
      const per = (x: number) => (tokens > 0 ? x / tokens : NaN);
      group.push({
        config,
        genLength,
        prompts: rs.length,
        newTokens: tokens,
        endedByEos: rs.filter((r) => r.finishReason === 'eos').length,
        endedByStop: rs.filter((r) => r.finishReason === 'stop').length,
        forwards: sum((r) => r.forwards),
        forwardsPerToken: per(sum((r) => r.forwards)),
        readbacksPerToken: per(sum((r) => r.readbacks)),
        dispatchesPerToken: per(sum((r) => r.dispatches)),
        bytesPerToken: per(sum((r) => r.bytesReadBack)),
        ms: sum((r) => r.ms),
        tokensPerSecond: (tokens * 1000) / sum((r) => r.ms),
        syntaxValid: o.promptKind === 'header' ? rs.filter((r) => r.syntaxOk).length / rs.length : NaN,
      });
    }
    const base = group.find((r) => r.config === 'ar');
    if (base) {
      for (const r of group) {
        if (r.config === 'ar') continue;
        r.tpsVsAr = r.tokensPerSecond / base.tokensPerSecond;
        r.fptVsAr = r.forwardsPerToken / base.forwardsPerToken;
      }
    }
    rows.push(...group);
  }

  const table = markdownTable(rows, o);
  console.log(`\n${table}\n`);
  // The syntax hook's own cost (config syntax): parse time per step, tokens turned down.
  const gated = runs.filter((r) => r.syntax);
  const syntaxHook = gated.length === 0 ? null : {
    runs: gated.length,
    rejected: gated.reduce((a, r) => a + r.syntax!.rejected, 0),
    extraForwards: gated.reduce((a, r) => a + r.syntax!.forwards, 0),
    parses: gated.reduce((a, r) => a + r.syntax!.parses, 0),
    parseMsPerStep: gated.reduce((a, r) => a + r.syntax!.parseMs, 0) / gated.reduce((a, r) => a + r.steps, 0),
    parseMsPerParse: gated.reduce((a, r) => a + r.syntax!.parseMs, 0) / Math.max(1, gated.reduce((a, r) => a + r.syntax!.parses, 0)),
  };
  if (syntaxHook) console.log(`syntax hook: ${JSON.stringify(syntaxHook)}`);
  const command = `npm run bench:generate --${argv.length ? ' ' + argv.join(' ') : ''}`.replace(/ --$/, '');
  const result = {
    adapter: info,
    date: new Date().toISOString(),
    command,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtEnd: loadavg() },
    note: 'Greedy decoding. Per-token numbers divide by real generated tokens (eos/pad excluded). SwiftShader runs the kernels on the CPU: wall times say little about GPUs; forwards, readbacks and bytes read back per token carry over.',
    options: o,
    models: {
      diffusion: dModel ? { id: o.diffusion, parameters: dModel.parameterCount, config: dModel.config, matmulVariant: dModel.matmulVariant } : null,
      autoregressive: aModel ? { id: o.ar, parameters: aModel.parameterCount, config: aModel.config, matmulVariant: aModel.matmulVariant } : null,
    },
    prompts: { source, list: prompts, tokens: promptIds.map((p) => p.length) },
    lengths,
    rows: rows.map((r) => ({ ...r, label: describeConfig(r.config as ConfigName, o) })),
    syntaxHook,
    runs,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  mkdirSync('bench/results', { recursive: true });
  const out = o.out ?? `bench/results/generate-${adapter}-${basename(o.diffusion)}.json`;
  writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
  console.log(`wrote ${out} (${result.seconds} s)`);
  if (o.readme) {
    // its own section when the run has its own results file (--out)
    const key = o.out ? basename(o.out, '.json').replace(/^generate-/, '') : `${adapter}-${basename(o.diffusion)}`;
    writeReadmeSection(key, readmeSection(result.date, result.machine, command, info.description, o, prompts.length, source, rows, table, context));
    console.log('updated bench/README.md');
  }
  dModel?.dispose();
  aModel?.dispose();
  device?.destroy();
}

/** The facts of this run in words: what won wall-clock, and the counts that carry over to GPUs. */
function readmeSection(date: string, machine: { cpus: number; loadAverageAtEnd: number[] }, command: string, adapterDesc: string, o: Options, nPrompts: number, source: string, rows: Row[], table: string, context: number): string {
  const lines = [
    `Command: \`${command}\` — ${date.slice(0, 16).replace('T', ' ')} UTC, ${machine.cpus}-core CPU (load average ${machine.loadAverageAtEnd[0]!.toFixed(2)} at the end), ${o.engine === 'cpu' ? adapterDesc : `adapter ${adapterDesc} (WebGPU on the CPU)`}.`,
    `Models: \`${o.diffusion}\` vs \`${o.ar}\` (context ${context}); ${nPrompts} ${PROMPT_KINDS[o.promptKind]} from \`${source}\`; greedy.`,
    '',
    table,
    '',
  ];
  const facts: string[] = [];
  for (const len of [...new Set(rows.map((r) => r.genLength))]) {
    const g = rows.filter((r) => r.genLength === len && r.config !== 'ar' && r.tpsVsAr !== undefined && Number.isFinite(r.fptVsAr));
    const empty = rows.filter((r) => r.genLength === len && r.newTokens === 0).map((r) => describeConfig(r.config as ConfigName, o));
    if (empty.length) facts.push(`span ${len}: ${empty.join(', ')}: no tokens at all (every span's first position ended up eos/pad)`);
    if (!g.length) continue;
    const best = g.reduce((a, b) => (a.fptVsAr! < b.fptVsAr! ? a : b));
    const fastest = g.reduce((a, b) => (a.tpsVsAr! > b.tpsVsAr! ? a : b));
    facts.push(
      `span ${len}: fewest forwards per token: ${describeConfig(best.config as ConfigName, o)} (${r2(best.forwardsPerToken, 3)}, ${r2(best.fptVsAr!, 2)}× AR's); ` +
        `wall-clock: ${describeConfig(fastest.config as ConfigName, o)} runs at ${r2(fastest.tpsVsAr!, 2)}× AR's tokens/s.`,
    );
  }
  if (facts.length) lines.push(...facts.map((f) => `- ${f}`), '');
  return lines.join('\n');
}

const README = 'bench/README.md';

function writeReadmeSection(key: string, body: string): void {
  const open = `<!-- generate:${key} -->`;
  const close = `<!-- /generate:${key} -->`;
  const section = `${open}\n### \`${key}\`\n\n${body}${close}`;
  let text = existsSync(README) ? readFileSync(README, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(open);
  const j = text.indexOf(close);
  if (i >= 0 && j > i) text = text.slice(0, i) + section + text.slice(j + close.length);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(README, text);
}
