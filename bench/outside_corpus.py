"""Python that is in no part of the training corpus, as a prompts file for bench:generate --heldout.

The corpus (training/corpus.py) is the standard library and a list of Debian packages; this takes
the .py files of other packages installed here (/usr/lib/python3/dist-packages: torch, pytest,
click, hypothesis, pygments, PIL, cryptography, yaml, ...), skips any that the corpus also has,
and writes them as JSON lines {"text", "path"} in a fixed shuffled order.

  python3 bench/outside_corpus.py /tmp/outside.jsonl
  python3 bench/outside_corpus.py /tmp/outside.jsonl --data /tmp/outside-data

--data DIR also writes DIR as training/eval.py reads a data folder (corpus/heldout.jsonl, heldout.bin
of the first files' tokens joined by eos as prepare.py joins them, about 600k tokens, and the
tokenizer), so `eval.py --data DIR` measures every model on this code: bits/byte, infill, syntax.
"""
import json
import os
import random
import sys

ROOT = "/usr/lib/python3/dist-packages"
PACKAGES = ["torch", "_pytest", "click", "hypothesis", "pygments", "PIL", "cryptography", "yaml", "attr",
            "dateutil", "more_itertools", "jwt", "httplib2", "charset_normalizer", "idna", "future", "mpmath"]


def main():
    out = sys.argv[1]
    data_dir = sys.argv[sys.argv.index("--data") + 1] if "--data" in sys.argv else None
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "training"))
    import corpus  # the corpus's Debian packages: none of them may hold what is taken here
    pkgs = os.path.join(here, "..", "training", "data", "pkgs")
    docs = []
    for pkg in PACKAGES:
        for deb in corpus.PACKAGES:
            if os.path.exists(os.path.join(pkgs, deb, "usr", "lib", "python3", "dist-packages", pkg)):
                raise SystemExit(f"{pkg} is in the corpus ({deb})")
        for dirpath, _, files in os.walk(os.path.join(ROOT, pkg)):
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    text = open(path, encoding="utf8").read()
                except (UnicodeDecodeError, OSError):
                    continue
                if 200 < len(text) < 200_000:
                    docs.append({"text": text, "path": path})
    docs.sort(key=lambda d: d["path"])
    random.Random(7).shuffle(docs)
    with open(out, "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    print(f"{len(docs)} files from {len(PACKAGES)} packages -> {out}")
    if data_dir:
        write_data(docs, os.path.join(here, "..", "training", "data", "tokenizer.json"), data_dir)


def write_data(docs, tokenizer_path, data_dir, max_tokens=600_000):
    """eval.py's data folder for these files (see the docstring)."""
    import shutil
    from prepare import encode_docs
    from tokenizer import Tokenizer
    tok = Tokenizer.load(tokenizer_path)
    os.makedirs(os.path.join(data_dir, "corpus"), exist_ok=True)
    shutil.copy(tokenizer_path, os.path.join(data_dir, "tokenizer.json"))
    with open(os.path.join(data_dir, "corpus", "heldout.jsonl"), "w") as f:
        for d in docs:
            f.write(json.dumps({"text": d["text"]}) + "\n")
    ids, _ = encode_docs(tok, [d["text"] for d in docs], max_tokens)
    ids.tofile(os.path.join(data_dir, "heldout.bin"))
    print(f"{len(ids)} tokens -> {data_dir}/heldout.bin")


if __name__ == "__main__":
    main()
