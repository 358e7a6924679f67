// The code tokenizer: byte-level BPE trained by training/tokenizer.py.
// Encoding runs through @huggingface/tokenizers (the same tokenizer.json the Python side writes,
// proven id-identical by src/tokenizer/tokenizer.test.ts on shared cases). Decoding is ours:
// each vocab entry is a string over GPT-2's 256-character byte alphabet, so a token's bytes are
// known exactly and the UI can show per-token text.
import { Tokenizer } from '@huggingface/tokenizers';

export interface SpecialTokens {
  mask: number;
  pad: number;
  eos: number;
}

/** GPT-2's reversible byte -> printable character map (same as training/tokenizer.py). */
function byteAlphabet(): string[] {
  const keep = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) chars.push(String.fromCharCode(keep(b) ? b : 256 + extra++));
  return chars;
}

export class CodeTokenizer {
  readonly special: SpecialTokens;
  readonly vocabSize: number;
  private readonly hf: Tokenizer;
  private readonly bytes: Uint8Array[]; // (vocab,) bytes of each token; empty for specials
  // ignoreBOM: keep a leading U+FEFF; TextDecoder drops it by default, which loses a character
  // of a text that starts with one (found by the Unicode fuzz test, issue #13).
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(json: TokenizerJSON) {
    this.hf = new Tokenizer(json as never, {});
    const vocab = json.model.vocab;
    this.vocabSize = Object.keys(vocab).length;
    this.special = json.quicksilver?.special_tokens ?? {
      eos: this.vocabSize - 3,
      pad: this.vocabSize - 2,
      mask: this.vocabSize - 1,
    };
    const charToByte = new Map(byteAlphabet().map((c, b) => [c, b]));
    this.bytes = new Array(this.vocabSize);
    for (const [piece, id] of Object.entries(vocab)) {
      const out: number[] = [];
      for (const ch of piece) {
        const b = charToByte.get(ch);
        if (b === undefined) {
          out.length = 0; // a special token: no text
          break;
        }
        out.push(b);
      }
      this.bytes[id] = Uint8Array.from(out);
    }
  }

  static async fromURL(url: string, fetchImpl: typeof fetch = fetch): Promise<CodeTokenizer> {
    const res = await fetchImpl(url);
    if (!res.ok) throw new Error(`tokenizer: ${url} answered ${res.status}`);
    return new CodeTokenizer((await res.json()) as TokenizerJSON);
  }

  isSpecial(id: number): boolean {
    return id === this.special.mask || id === this.special.pad || id === this.special.eos;
  }

  /** Text -> ids. Ordinary text never yields a special token. */
  encode(text: string): number[] {
    return this.hf.encode(text).ids as number[];
  }

  /** ids -> text; special tokens contribute nothing; bytes that are not valid UTF-8 -> U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.bytes[ids[i]]?.length ?? 0;
    const buf = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytes[ids[i]];
      if (b) {
        buf.set(b, o);
        o += b.length;
      }
    }
    return this.utf8.decode(buf);
  }

  /** One token's own text (a lone part of a multi-byte character shows as U+FFFD). */
  tokenText(id: number): string {
    return this.utf8.decode(this.bytes[id] ?? new Uint8Array());
  }
}

export interface TokenizerJSON {
  model: { vocab: Record<string, number>; merges: unknown[] };
  quicksilver?: { special_tokens: SpecialTokens };
  [key: string]: unknown;
}
