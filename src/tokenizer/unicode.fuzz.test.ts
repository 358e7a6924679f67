// Faults tried (issue #13, item 10), the tokenizer's part: 1,000 random Unicode strings (emoji,
// RTL, combining marks, lone surrogates, NUL...) encode without an exception, never to a special
// token, and decode back to the same text (lone surrogates as U+FFFD, as UTF-8 carries them).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasLoneSurrogate, randomUnicodeStrings, wellFormed } from '../test/unicodeFuzz';
import { CodeTokenizer, type TokenizerJSON } from './index';

const file = join(__dirname, '..', '..', 'public', 'models', 'qs-code-diffusion-tiny', 'tokenizer.json');

describe.skipIf(!existsSync(file))('tokenizer round trip on 1,000 random Unicode strings', () => {
  it('encode → decode gives the text back (a leading BOM included); no special ids', () => {
    const tok = new CodeTokenizer(JSON.parse(readFileSync(file, 'utf8')) as TokenizerJSON);
    const strings = randomUnicodeStrings(1000);
    // The generator really produces the hard cases.
    expect(strings.filter(hasLoneSurrogate).length).toBeGreaterThan(50);
    expect(strings.filter((s) => s.includes('\u0000')).length).toBeGreaterThan(20);
    expect(strings.filter((s) => /[\u0590-\u06ff]/.test(s)).length).toBeGreaterThan(50);
    expect(strings.filter((s) => s === '').length).toBeGreaterThan(0);
    for (const s of strings) {
      const ids = tok.encode(s);
      expect(ids.some((id) => tok.isSpecial(id)), JSON.stringify(s)).toBe(false);
      expect(tok.decode(ids), JSON.stringify(s)).toBe(wellFormed(s));
    }
  });
});
