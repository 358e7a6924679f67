"""Byte-level BPE tokenizer for Python source: training, encoding, and tokenizer.json export.

Design (mirrors what @huggingface/tokenizers does in the browser, so ids match exactly):
  1. split text into chunks with SPLIT_PATTERN (ASCII-only classes, so Python `re` and
     JavaScript `RegExp(..., 'gu')` agree on every string),
  2. each chunk -> UTF-8 bytes -> one printable character per byte (GPT-2's byte alphabet),
  3. apply BPE merges by rank (lowest rank first) inside each chunk.
Every byte is a base token, so any text is encodable and decode(encode(s)) == s for every
valid Unicode string (byte fallback is built in). Lone UTF-16 surrogates cannot be written in
UTF-8; like the browser's TextEncoder they become U+FFFD.

Ids: 0..255 bytes, then merges in rank order, then the special tokens at the top:
  eos = V-3, pad = V-2, mask = V-1. Specials have names outside the byte alphabet, so no
  merge can ever produce them: ordinary text never encodes to a special token.
"""
import json
import re
from collections import Counter

SPLIT_PATTERN = (r" ?[A-Za-z_]+| ?[0-9]+| ?[^ \t\n\r\f\vA-Za-z0-9_]+"
                 r"|[ \t\n\r\f\v]+(?![^ \t\n\r\f\v])|[ \t\n\r\f\v]+")
SPECIALS = ["⟨eos⟩", "⟨pad⟩", "⟨mask⟩"]  # ids V-3, V-2, V-1
_SURROGATE = re.compile("[\ud800-\udfff]")


def byte_alphabet() -> list:
    """GPT-2's reversible map: byte value -> one printable unicode character."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


BYTE_CHARS = byte_alphabet()
CHAR_BYTES = {c: b for b, c in enumerate(BYTE_CHARS)}
_split = re.compile(SPLIT_PATTERN)


def chunks(text: str) -> list:
    """Pre-tokenize: regex chunks, each mapped to byte-alphabet characters."""
    text = _SURROGATE.sub("\ufffd", text)
    return ["".join(BYTE_CHARS[b] for b in c.encode("utf-8")) for c in _split.findall(text)]


def train(texts, vocab_size: int, log=print):
    """Learn vocab_size - 256 - len(SPECIALS) merges from an iterable of strings."""
    counts = Counter()
    for t in texts:
        counts.update(chunks(t))
    words = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    pair_count, pair_words = Counter(), {}
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += freq[i]
            pair_words.setdefault(p, set()).add(i)
    merges = []
    n_merges = vocab_size - 256 - len(SPECIALS)
    while len(merges) < n_merges and pair_count:
        best = max(pair_count.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        joined = best[0] + best[1]
        for i in list(pair_words.get(best, ())):
            w = words[i]
            for p in zip(w, w[1:]):  # remove this word's old pairs
                pair_count[p] -= freq[i]
                if pair_count[p] <= 0:
                    del pair_count[p]
                s = pair_words.get(p)
                if s is not None:
                    s.discard(i)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == best[0] and w[j + 1] == best[1]:
                    out.append(joined)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_count[p] += freq[i]
                pair_words.setdefault(p, set()).add(i)
        pair_words.pop(best, None)
        pair_count.pop(best, None)
        if len(merges) % 500 == 0:
            log(f"merges {len(merges)}/{n_merges}")
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.rank = {m: r for r, m in enumerate(self.merges)}
        self.vocab = list(BYTE_CHARS) + [a + b for a, b in self.merges] + SPECIALS
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.vocab_size = len(self.vocab)
        self.eos, self.pad, self.mask = (self.vocab_size - 3, self.vocab_size - 2,
                                         self.vocab_size - 1)
        self._cache = {}

    def _bpe(self, chunk: str) -> list:
        hit = self._cache.get(chunk)
        if hit is not None:
            return hit
        parts = list(chunk)
        while len(parts) > 1:
            best, best_rank = -1, None
            for j in range(len(parts) - 1):
                r = self.rank.get((parts[j], parts[j + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = j, r
            if best < 0:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        ids = [self.ids[p] for p in parts]
        if len(self._cache) < 1_000_000:
            self._cache[chunk] = ids
        return ids

    def encode(self, text: str) -> list:
        out = []
        for c in chunks(text):
            out.extend(self._bpe(c))
        return out

    def decode(self, ids) -> str:
        """Bytes of all non-special tokens, decoded as UTF-8 (invalid bytes -> U+FFFD)."""
        data = bytearray()
        for i in ids:
            if i < self.vocab_size - len(SPECIALS):
                data.extend(CHAR_BYTES[c] for c in self.vocab[i])
        return data.decode("utf-8", errors="replace")

    def to_json(self) -> dict:
        """tokenizer.json in the Hugging Face format (loads in @huggingface/tokenizers)."""
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                      "use_regex": False}
        return {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": SPLIT_PATTERN}, "behavior": "Isolated",
                 "invert": False}, byte_level]},
            "post_processor": None,
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": self.ids, "merges": [[a, b] for a, b in self.merges]},
            "quicksilver": {"special_tokens": {"eos": self.eos, "pad": self.pad,
                                               "mask": self.mask}},
        }

    def save(self, path: str):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False)

    @classmethod
    def load(cls, path: str) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        return cls([tuple(m) for m in j["model"]["merges"]])


# Shared test strings: Python (training/tests/test_tokenizer.py) and TypeScript
# (src/tokenizer/tokenizer.test.ts) must both encode each to the ids stored in
# src/tokenizer/cases.json. Regenerate with: python3 training/tokenizer.py TOKENIZER_JSON
CASE_STRINGS = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "class Foo(Base):\n\tdef __init__(self, *args, **kw):\n\t\tsuper().__init__(*args, **kw)\n",
    "x = {'a': [1, 2.5e-3, 0x1F], \"b\": None}  # comment\r\nprint(x)\r\n",
    "naïve café — Ünïcödé ∑ ∫ λ 漢字 ひらがな Ελληνικά",
    "emoji 🐍🚀👩‍💻 and flags 🇩🇪 done",
    "lone surrogates \ud800 here \udfff and \udbff\ud800x pair-swapped",
    "\t\t  mixed \t whitespace  \n\n\n   \f\v end",
    "<|mask|> <|endoftext|> ⟨mask⟩ ⟨pad⟩ ⟨eos⟩ look like specials but are text",
    "\u00a0nbsp \u2028 line-sep \ufeff bom \u200b zwsp \x00 nul \x7f del",
    "",
    "    ",
    "a" * 300 + "\n" + "1234567890" * 5,
]


def write_cases(tokenizer_json: str, out: str):
    tok = Tokenizer.load(tokenizer_json)
    cases = [{"text": s, "ids": tok.encode(s)} for s in CASE_STRINGS]
    with open(out, "w") as f:  # one case a line
        f.write('{"tokenizer_merges": %d, "cases": [\n' % len(tok.merges))
        f.write(",\n".join(json.dumps(c) for c in cases) + "\n]}\n")


if __name__ == "__main__":
    import sys
    write_cases(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "src/tokenizer/cases.json")
