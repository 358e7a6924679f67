// The TypeScript encoder must give exactly the ids the Python encoder stored in cases.json
// (written by training/tokenizer.py from the shipped tokenizer), and decode losslessly.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CodeTokenizer, type TokenizerJSON } from './index';

const root = join(__dirname, '..', '..');
const modelsDir = join(root, 'public', 'models');
const shipped = existsSync(modelsDir)
  ? readdirSync(modelsDir).filter((d) => existsSync(join(modelsDir, d, 'tokenizer.json')))
  : [];
const cases: { text: string; ids: number[] }[] = JSON.parse(
  readFileSync(join(__dirname, 'cases.json'), 'utf8'),
).cases;

/** What UTF-8 can carry: lone surrogates become U+FFFD (as TextEncoder does). */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

describe.skipIf(shipped.length === 0)('CodeTokenizer vs the Python encoder', () => {
  let tok: CodeTokenizer;
  beforeAll(() => {
    tok = new CodeTokenizer(
      JSON.parse(readFileSync(join(modelsDir, shipped[0], 'tokenizer.json'), 'utf8')) as TokenizerJSON,
    );
  });

  it('encodes every shared case to the Python ids', () => {
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) expect(tok.encode(c.text), JSON.stringify(c.text.slice(0, 30))).toEqual(c.ids);
  });

  it('decodes losslessly and never emits special tokens for text', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = [...'abcXYZ_09 \t\n\r(){}[]:;.,\'"#@éß漢🐍\u200b\u0000'];
    const samples = cases.map((c) => c.text);
    for (let i = 0; i < 200; i++) {
      let s = '';
      const n = Math.floor(rand() * 80);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      samples.push(s);
    }
    for (const s of samples) {
      const ids = tok.encode(s);
      expect(ids.some((id) => tok.isSpecial(id))).toBe(false);
      expect(tok.decode(ids)).toBe(wellFormed(s));
    }
  });

  it('per-token text concatenates to the decoded text for ASCII code', () => {
    const ids = tok.encode(cases[0].text);
    expect(ids.map((id) => tok.tokenText(id)).join('')).toBe(cases[0].text);
    expect(tok.tokenText(tok.special.mask)).toBe('');
  });
});
