"""Train the tokenizer on a sample of the corpus and tokenize both splits.

Reads data/corpus/{train,heldout}.jsonl (from corpus.py). Writes
  data/tokenizer.json            the tokenizer (Hugging Face format)
  data/{train,heldout}.bin       uint16 token ids, files joined by `eos`
  data/{train,heldout}.json      byte and token counts (bits-per-byte needs bytes/token)

Usage: python3 training/prepare.py [--vocab 4096] [--sample-bytes 20000000]
"""
import argparse
import json
import os
import random
import time

import numpy as np

import tokenizer as T

HERE = os.path.dirname(os.path.abspath(__file__))


def read_docs(path):
    with open(path) as f:
        return [json.loads(line)["text"] for line in f]


def encode_docs(tok, docs, max_tokens=None):
    """Token ids of the docs, each followed by eos (the .bin layout), and their UTF-8 bytes;
    max_tokens: stop after the doc that reaches it."""
    ids, n_bytes = [], 0
    for d in docs:
        if max_tokens is not None and len(ids) >= max_tokens:
            break
        ids.extend(tok.encode(d))
        ids.append(tok.eos)
        n_bytes += len(d.encode("utf-8"))
    return np.array(ids, dtype=np.uint16), n_bytes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--sample-bytes", type=int, default=20_000_000)
    args = ap.parse_args()
    train_docs = read_docs(os.path.join(args.data, "corpus", "train.jsonl"))
    sample, n = [], 0
    for d in random.Random(0).sample(train_docs, len(train_docs)):
        sample.append(d)
        n += len(d)
        if n >= args.sample_bytes:
            break
    t0 = time.time()
    tok = T.Tokenizer(T.train(sample, args.vocab))
    tok.save(os.path.join(args.data, "tokenizer.json"))
    print(f"tokenizer: {tok.vocab_size} tokens from {n} chars in {time.time() - t0:.0f}s")
    for split in ("train", "heldout"):
        docs = train_docs if split == "train" else read_docs(
            os.path.join(args.data, "corpus", split + ".jsonl"))
        arr, n_bytes = encode_docs(tok, docs)
        arr.tofile(os.path.join(args.data, split + ".bin"))
        stats = {"files": len(docs), "bytes": n_bytes, "tokens": int(arr.size),
                 "bytes_per_token": n_bytes / arr.size}
        with open(os.path.join(args.data, split + ".json"), "w") as f:
            json.dump(stats, f, indent=1)
        print(split, stats)


if __name__ == "__main__":
    main()
