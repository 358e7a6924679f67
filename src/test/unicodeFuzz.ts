// Random Unicode text for fault tests (issue #13, item 10): emoji (ZWJ sequences, flags, skin
// tones), right-to-left scripts and bidi controls, combining marks, lone surrogates, NUL and other
// controls, BOM, CJK, line separators, code. Deterministic (xorshift32) so a failure reproduces.

const PIECES: string[] = [
  // code
  'def f(x):', '    return x', '\n', '\r\n', '\t', ' ', '#', '"""', "'", '()', '{}', '[]', ':', '=', 'lambda', '0x1F', '_', '\\',
  // emoji
  '😀', '🐍', '👩‍💻', '👨‍👩‍👧‍👦', '🇯🇵', '🏳️‍🌈', '👍🏽', '❤️', '🫠', '\u{1F9D1}\u{200D}\u{1F680}',
  // right to left, bidi controls
  'שלום', 'עולם', 'مرحبا', 'السلام', '\u200f', '\u200e', '\u202e', '\u202c', '\u2067', '\u2069',
  // combining marks
  'e\u0301', 'a\u0308', '\u0336', '\u0301\u0302\u0303\u0304', 'Z\u0351\u0352\u0357\u035b', 'ก\u0e31\u0e49',
  // lone surrogates (both halves, alone)
  '\ud800', '\udbff', '\udc00', '\udfff',
  // NUL and other controls, BOM, noncharacters, separators
  '\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\ufeff', '\uffff', '\ufffe', '\u2028', '\u2029', '\u200b', '\u00a0',
  // other scripts
  '日本語', '漢字', '한국어', 'Ελληνικά', 'кириллица', 'ß', 'ﬁ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\u{10FFFF}',
];

/** `n` strings of 0-`maxPieces` pieces each, from `seed`. */
export function randomUnicodeStrings(n: number, seed = 2026, maxPieces = 12): string[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rand() * (maxPieces + 1));
    let t = '';
    for (let j = 0; j < k; j++) t += PIECES[Math.floor(rand() * PIECES.length)];
    out.push(t);
  }
  return out;
}

/** What UTF-8 can carry: lone surrogates become U+FFFD (as TextEncoder does). */
export const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** Does `s` hold a surrogate half without its partner? */
export const hasLoneSurrogate = (s: string) => wellFormed(s) !== s;
