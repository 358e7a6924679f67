"""End-to-end pipeline checks on small synthetic data: train -> checkpoint -> export -> reload."""
import glob
import json
import os

import numpy as np
import pytest
import torch

import export
import train
from model import ModelConfig, Transformer, block_step
from tokenizer import Tokenizer
from tokenizer import train as train_tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SNIPPETS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i)\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
    "import os\nimport sys\n\nif __name__ == '__main__':\n    main()\n",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    tok = Tokenizer(train_tokenizer(SNIPPETS * 20, 256 + 3 + 61, log=lambda *_: None))
    tok.save(str(d / "tokenizer.json"))
    rng = np.random.default_rng(0)
    ids = []
    for _ in range(400):
        ids += tok.encode(SNIPPETS[rng.integers(len(SNIPPETS))]) + [tok.eos]
    np.array(ids, dtype=np.uint16).tofile(str(d / "train.bin"))
    return d


def run_train(data_dir, out, kind, steps, extra=()):
    train.main(["--kind", kind, "--size", "tiny", "--data", str(data_dir), "--out", str(out),
                "--tokens", str(steps * 8 * 128), "--batch", "8", "--warmup", "5", "--lr", "3e-3",
                "--log-every", "5", "--ckpt-every", "1000", *extra])
    return torch.load(os.path.join(out, "ckpt.pt"))


@pytest.mark.parametrize("kind", ["diffusion", "autoregressive", "block_causal"])
def test_short_training_reduces_loss_and_resumes(data_dir, tmp_path, kind):
    extra = ("--attention", "block_causal") if kind == "block_causal" else ()
    arg = "diffusion" if kind == "block_causal" else kind
    ck = run_train(data_dir, tmp_path / kind, arg, 100, extra)
    losses = [l for _, l in ck["state"]["losses"]]
    assert ck["state"]["step"] == 100
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:2]), losses
    ck2 = run_train(data_dir, tmp_path / kind, arg, 110, extra)  # same folder: resumes, 10 more steps
    assert ck2["state"]["step"] == 110 and ck2["state"]["tokens_seen"] == 110 * 8 * 128


def test_export_then_reload_gives_same_logits(data_dir, tmp_path):
    run_train(data_dir, tmp_path / "run", "diffusion", 3)
    out = export.export(str(tmp_path / "run" / "ckpt.pt"), "qs-test", str(tmp_path / "models"),
                        str(data_dir))
    names = sorted(os.listdir(out))
    assert names == ["config.json", "golden.json", "manifest.json", "model.safetensors",
                     "tokenizer.json"]
    ck = torch.load(str(tmp_path / "run" / "ckpt.pt"))
    cfg = ModelConfig(**ck["info"]["config"])
    ref = Transformer(cfg).eval()
    ref.load_state_dict({k: v.half().float() for k, v in ck["model"].items()})
    got = export.load_model(out)
    x = torch.randint(0, cfg.vocab_size, (2, 20))
    with torch.no_grad():
        assert torch.equal(ref(x), got(x))
    def check_manifest():
        manifest = json.load(open(os.path.join(out, "manifest.json")))["files"]
        for name, m in manifest.items():
            assert m["bytes"] == os.path.getsize(os.path.join(out, name))
            assert m["sha256"] == export.sha256(os.path.join(out, name))
        return manifest
    before = check_manifest()
    # eval results added later (export.py --eval E --update DIR): config and manifest change, the rest not
    export.set_eval(out, {"bits_per_byte": 1.25})
    assert json.load(open(os.path.join(out, "config.json")))["eval"] == {"bits_per_byte": 1.25}
    after = check_manifest()
    assert after["config.json"] != before["config.json"]
    assert {k: v for k, v in after.items() if k != "config.json"} == \
        {k: v for k, v in before.items() if k != "config.json"}


@pytest.mark.parametrize("model_dir", sorted(os.path.dirname(p) for p in glob.glob(
    os.path.join(ROOT, "public", "models", "*", "golden.json"))))
def test_shipped_golden_matches_pytorch(model_dir):
    model = export.load_model(model_dir)
    golden = json.load(open(os.path.join(model_dir, "golden.json")))["cases"]
    assert len(golden) >= 2
    for case in golden:
        with torch.no_grad():
            if "context" in case:  # block-causal: a block step
                got = block_step(model, torch.tensor(case["context"])[None], case["context_positions"],
                                 torch.tensor(case["block"])[None], case["block_pos0"])[0][case["offsets"]]
            else:
                got = model(torch.tensor(case["input_ids"])[None])[0][case["positions"]]
        want = torch.tensor(case["logits"])
        assert torch.allclose(got, want, atol=1e-4, rtol=1e-4)


def test_block_causal_export_writes_format_2_and_block_golden(data_dir, tmp_path):
    run_train(data_dir, tmp_path / "run", "diffusion", 3, ("--attention", "block_causal", "--block-size", "4"))
    out = export.export(str(tmp_path / "run" / "ckpt.pt"), "qs-test-block", str(tmp_path / "models"),
                        str(data_dir))
    config = json.load(open(os.path.join(out, "config.json")))
    assert (config["format"], config["attention"], config["block_size"], config["shift"]) == \
        (2, "block_causal", 4, True)
    model = export.load_model(out)
    cases = json.load(open(os.path.join(out, "golden.json")))["cases"]
    assert len(cases) == 4 and any(c["context_positions"][0] > 0 for c in cases)  # one suffix-first
    for c in cases:
        with torch.no_grad():
            got = block_step(model, torch.tensor(c["context"])[None], c["context_positions"],
                             torch.tensor(c["block"])[None], c["block_pos0"])[0][c["offsets"]]
        assert got.shape == (len(c["offsets"]), config["vocab_size"]) and 0 in c["offsets"]
        assert torch.allclose(got, torch.tensor(c["logits"]), atol=1e-4)
