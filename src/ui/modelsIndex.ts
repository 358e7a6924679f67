// The list of shipped models (public/models/index.json, written by scripts/models-index.mjs) and
// the choice of which to load: URL parameter, then settings, then the best shipped model, with
// fallbacks so a missing model never leaves the app without one.

export interface ModelEntry {
  id: string;
  kind: 'diffusion' | 'autoregressive';
  parameters: number;
  downloadBytes: number;
  /** Bytes of weights in the engine (int8 matrices stay int8), scripts/models-index.mjs. */
  memoryBytes?: number;
  dtype?: string;
  /** An int8 export of the float model `from` (training/export.py --int8); qualityHolds: its
   *  eval.py numbers are within issue #12's bar of the float model's (null: not evaluated). */
  quantized?: { from: string; group_size?: number; compensation?: string; qualityHolds?: boolean | null };
  max_seq_len?: number;
  eval?: Record<string, unknown>;
}

export interface ModelsIndex {
  format: number;
  models: ModelEntry[];
}

/** Used when index.json cannot be read: the models the project ships, best first. */
export const FALLBACK_DIFFUSION = ['qs-code-diffusion-base-v3-int8', 'qs-code-diffusion-small-v3', 'qs-code-diffusion-tiny'];

export async function fetchModelsIndex(fetchFn: typeof fetch = fetch): Promise<ModelsIndex | null> {
  try {
    const res = await fetchFn('/models/index.json');
    if (!res.ok || (res.headers.get('content-type') ?? '').includes('text/html')) return null;
    const json = (await res.json()) as Partial<ModelsIndex>;
    if (!Array.isArray(json.models)) return null;
    const models = json.models.filter(
      (m): m is ModelEntry => typeof m?.id === 'string' && (m.kind === 'diffusion' || m.kind === 'autoregressive'),
    );
    return { format: Number(json.format ?? 1), models };
  } catch {
    return null;
  }
}

/** Bigger is better among what is shipped; at one size an int8 export whose quality holds comes
 *  first (half the download, a quarter of the memory), then the larger download (less quantized). */
export function rank(models: ModelEntry[], kind: ModelEntry['kind']): string[] {
  const holds = (m: ModelEntry) => (m.quantized?.qualityHolds ? 1 : 0);
  return models
    .filter((m) => m.kind === kind)
    .sort((a, b) => b.parameters - a.parameters || holds(b) - holds(a) || b.downloadBytes - a.downloadBytes || a.id.localeCompare(b.id))
    .map((m) => m.id);
}

/** The autoregressive twin of a diffusion model: same name with "ar" for "diffusion", else the closest size. */
export function twinOf(diffusionId: string, index: ModelsIndex | null): string | null {
  const named = diffusionId.replace(/diffusion/, 'ar');
  if (!index) return named !== diffusionId ? named : null;
  if (named !== diffusionId && index.models.some((m) => m.id === named && m.kind === 'autoregressive')) return named;
  const me = index.models.find((m) => m.id === diffusionId);
  const ars = index.models.filter((m) => m.kind === 'autoregressive');
  if (ars.length === 0) return null;
  const size = me?.parameters ?? 0;
  return ars.reduce((best, m) => (Math.abs(m.parameters - size) < Math.abs(best.parameters - size) ? m : best)).id;
}

export interface ModelChoice {
  /** Diffusion model ids to try in order: the wish first (even if index.json does not list it,
   *  since the index may be stale), then the shipped ones, best first. */
  diffusion: string[];
  /** The AR model to race against (null: none shipped). */
  ar: string | null;
}

export interface ModelWishes {
  urlModel?: string | null;
  urlAr?: string | null;
  settingsModel?: string | null;
  settingsAr?: string | null;
}

export function chooseModels(index: ModelsIndex | null, wishes: ModelWishes): ModelChoice {
  const best = index ? rank(index.models, 'diffusion') : FALLBACK_DIFFUSION;
  const wish = wishes.urlModel || wishes.settingsModel || null;
  const diffusion = [...new Set([...(wish ? [wish] : []), ...(best.length ? best : FALLBACK_DIFFUSION)])];
  const ar = wishes.urlAr || wishes.settingsAr || twinOf(diffusion[0]!, index);
  return { diffusion, ar };
}

/** Human size: 362816 -> "0.36M", 5_100_000 -> "5.1M". */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  return `${(n / 1e6).toFixed(2)}M`;
}
