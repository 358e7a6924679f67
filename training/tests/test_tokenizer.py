import glob
import json
import os
import random

import pytest

from tokenizer import CASE_STRINGS, Tokenizer, train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = sorted(glob.glob(os.path.join(ROOT, "public", "models", "*", "tokenizer.json")))


@pytest.fixture(scope="module")
def shipped():
    if not SHIPPED:
        pytest.skip("no shipped model yet")
    return Tokenizer.load(SHIPPED[0])


def test_cases_file_matches_python_encoder(shipped):
    cases = json.load(open(os.path.join(ROOT, "src", "tokenizer", "cases.json")))["cases"]
    assert [c["text"] for c in cases] == CASE_STRINGS
    for c in cases:
        assert shipped.encode(c["text"]) == c["ids"], repr(c["text"][:40])


def test_all_shipped_models_share_one_tokenizer():
    texts = {open(p, encoding="utf-8").read() for p in SHIPPED}
    assert len(texts) <= 1


def test_roundtrip_is_lossless_and_never_special(shipped):
    rng = random.Random(0)
    alphabet = "abcXYZ_09 \t\n\r(){}[]:;.,'\"#@éß漢🐍\u200b\x00"
    samples = CASE_STRINGS + ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
                              for _ in range(300)]
    for s in samples:
        ids = shipped.encode(s)
        assert all(i < shipped.vocab_size - 3 for i in ids)
        want = s
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in s):
            want = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in s)
        assert shipped.decode(ids) == want


def test_training_learns_merges_that_compress():
    text = ["def foo(bar):\n    return bar + 1\n"] * 50 + ["import os\nimport sys\n"] * 50
    tok = Tokenizer(train(text, 256 + 3 + 40, log=lambda *_: None))
    s = "def foo(bar):\n    return bar + 1\n"
    assert len(tok.encode(s)) < len(s.encode()) / 2
    assert tok.decode(tok.encode(s)) == s
