// similarity() against Python's own difflib.SequenceMatcher(None, a, b).ratio() on random strings:
// small alphabets (many ties between equally long matches), lengths past 200 (popular characters),
// code-like lines, empty strings. One python3 call for all pairs.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { similarity } from './similarity';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('similarity (difflib ratio)', () => {
  it('equals Python difflib on random pairs, ties and popular characters included', () => {
    const r = rng(7);
    const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const pairs: [string, string][] = [['', ''], ['', 'abc'], ['abc', ''], ['    return a + b', '    return a, b'], ['x = foo(bar)', 'y = foo(baz, bar)']];
    for (let t = 0; t < 300; t++) {
      const alphabet = ['ab', 'abc', 'abcdefgh', ' ()=:xyz_.,', 'abcdefghijklmnopqrstuvwxyz    '][t % 5]!;
      const n = t % 7 === 0 ? 200 + Math.floor(r() * 150) : Math.floor(r() * 40);
      const m = t % 11 === 0 ? 200 + Math.floor(r() * 150) : Math.floor(r() * 40);
      pairs.push([pick(alphabet, n), pick(alphabet, m)]);
    }
    const want = JSON.parse(execFileSync('python3', ['-c', 'import difflib, json, sys; print(json.dumps([difflib.SequenceMatcher(None, a, b).ratio() for a, b in json.load(sys.stdin)]))'], { input: JSON.stringify(pairs), encoding: 'utf8' })) as number[];
    pairs.forEach(([a, b], i) => expect(similarity(a, b), JSON.stringify([a, b])).toBeCloseTo(want[i]!, 12));
    // the pairs are not all alike or all different
    expect(new Set(want.map((x) => x.toFixed(2))).size).toBeGreaterThan(20);
  });
});
