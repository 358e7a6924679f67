// How alike two lines are: Python's difflib.SequenceMatcher(None, a, b).ratio(), the measure the
// infill eval scores a filled line by (training/eval.py line_score), so Fill can pick the candidate
// most like the others (minimum Bayes risk, candidates.ts) by the same yardstick.
//
//   ratio = 2 M / (|a| + |b|), M = characters in the matching blocks: the longest common
//   substring of a[alo, ahi) and b[blo, bhi) (earliest in a, then in b, on ties), then the same
//   left and right of it, recursively. With |b| >= 200, characters of b that occur more than
//   |b| / 100 + 1 times are "popular": they do not start a match but extend one (difflib's autojunk).
// Strings are compared by UTF-16 code unit (Python compares code points; the two differ only
// around characters outside the BMP).

/** Positions of each character of b, popular ones left out (difflib's b2j). */
function positions(b: string): Map<string, number[]> {
  const b2j = new Map<string, number[]>();
  for (let j = 0; j < b.length; j++) {
    const list = b2j.get(b[j]!);
    if (list) list.push(j);
    else b2j.set(b[j]!, [j]);
  }
  if (b.length >= 200) {
    const most = Math.floor(b.length / 100) + 1;
    for (const [c, list] of [...b2j]) if (list.length > most) b2j.delete(c);
  }
  return b2j;
}

/** The longest common substring of a[alo, ahi) and b[blo, bhi): [i, j, size] (difflib find_longest_match). */
function longestMatch(a: string, b: string, b2j: Map<string, number[]>, alo: number, ahi: number, blo: number, bhi: number): [number, number, number] {
  let [bi, bj, size] = [alo, blo, 0];
  let j2len = new Map<number, number>(); // match length ending at a[i - 1], b[j]
  for (let i = alo; i < ahi; i++) {
    const next = new Map<number, number>();
    for (const j of b2j.get(a[i]!) ?? []) {
      if (j < blo) continue;
      if (j >= bhi) break;
      const k = (j2len.get(j - 1) ?? 0) + 1;
      next.set(j, k);
      if (k > size) [bi, bj, size] = [i - k + 1, j - k + 1, k];
    }
    j2len = next;
  }
  // popular characters extend a match on either side
  while (bi > alo && bj > blo && a[bi - 1] === b[bj - 1]) [bi, bj, size] = [bi - 1, bj - 1, size + 1];
  while (bi + size < ahi && bj + size < bhi && a[bi + size] === b[bj + size]) size++;
  return [bi, bj, size];
}

/** difflib.SequenceMatcher(None, a, b).ratio(): 1 for two empty strings. */
export function similarity(a: string, b: string): number {
  if (a.length + b.length === 0) return 1;
  const b2j = positions(b);
  let matched = 0;
  const queue: [number, number, number, number][] = [[0, a.length, 0, b.length]];
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop()!;
    const [i, j, k] = longestMatch(a, b, b2j, alo, ahi, blo, bhi);
    if (k === 0) continue;
    matched += k;
    if (alo < i && blo < j) queue.push([alo, i, blo, j]);
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
  }
  return (2 * matched) / (a.length + b.length);
}
