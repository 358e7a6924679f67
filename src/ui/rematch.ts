// Race rematches: a single Race is 20-100 ms of work per lane on the CPU engine, and on a shared
// machine one run's tokens/s swings by ±50% from one Race to the next (bench/README.md "Two
// threads and the split threshold"), so one pair of runs says little about which decoder is
// faster. After the visible runs, the two lanes run again, silently and taking turns, while a
// budget of the runs' own time lasts; the verdict then gives the median of these rematches and
// their range. Where one run already takes longer than the budget (WebGPU on a software
// adapter), there are none.

export type Lane = 'diffusion' | 'ar';

/** Tokens/s of each lane's rematch runs (not the visible one), in order. */
export interface RematchRuns {
  diffusion: number[];
  ar: number[];
}

/** Time that all of a Race's runs together may take (the runs' own ms, visible ones included). */
export const REMATCH_BUDGET_MS = 1000;
/** Most extra pairs of runs. */
export const REMATCH_PAIRS = 4;

/**
 * Run up to `pairs` more pairs after the visible pair (which took `firstPairMs`), the lane that
 * goes first alternating, the visible pair having started with `first`; a pair starts only while
 * the pairs so far, plus one more as long as the slowest, fit in `budgetMs`. `run(lane)` times one
 * run and resolves its tokens/s (null: it failed or was cancelled, which ends the rematch).
 * Stops before the next run once `signal` is aborted. Resolves the whole pairs run so far.
 */
export async function rematch(
  firstPairMs: number,
  first: Lane,
  run: (lane: Lane) => Promise<{ tokensPerSecond: number; ms: number } | null>,
  signal?: AbortSignal,
  budgetMs = REMATCH_BUDGET_MS,
  pairs = REMATCH_PAIRS,
): Promise<RematchRuns> {
  const out: RematchRuns = { diffusion: [], ar: [] };
  let spent = firstPairMs;
  let slowest = firstPairMs;
  for (let i = 0; i < pairs; i++) {
    if (spent + slowest > budgetMs) break;
    // the visible pair started with `first`; the next one starts with the other lane, and so on
    const order: Lane[] = (i % 2 === 0) === (first === 'diffusion') ? ['ar', 'diffusion'] : ['diffusion', 'ar'];
    let pairMs = 0;
    const got: Partial<Record<Lane, number>> = {};
    for (const lane of order) {
      if (signal?.aborted) return out;
      const r = await run(lane);
      if (!r || signal?.aborted) return out;
      got[lane] = r.tokensPerSecond;
      pairMs += r.ms;
    }
    out.diffusion.push(got.diffusion!);
    out.ar.push(got.ar!);
    spent += pairMs;
    slowest = Math.max(slowest, pairMs);
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Over the rematches (the visible runs are left out: the rematches share one setting, the prompt
 * already in both caches and no step events streamed): diffusion's tokens/s over the twin's as the
 * ratio of the lanes' medians, and the lowest and highest ratio of a pair (rematch i of one lane
 * against rematch i of the other). Null with fewer than 3 pairs.
 */
export function rematchSummary(r: RematchRuns): { pairs: number; median: number; low: number; high: number } | null {
  const pairs = Math.min(r.diffusion.length, r.ar.length);
  if (pairs < 3) return null;
  const d = r.diffusion.slice(0, pairs), a = r.ar.slice(0, pairs);
  const ratios = d.map((x, i) => x / a[i]!);
  return { pairs, median: median(d) / median(a), low: Math.min(...ratios), high: Math.max(...ratios) };
}
