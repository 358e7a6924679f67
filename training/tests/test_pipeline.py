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


def test_eval_reports_exact_bits_per_byte_for_every_kind(data_dir, tmp_path):
    """eval.py --metrics bpb: the block-causal model's exact left-to-right bits/byte and the AR
    model's NLL both come as bits_per_byte_exact (the issue's key); a full-attention diffusion model
    has none. The AR one is the mean next-token NLL over the same windows, recomputed here."""
    import shutil
    import subprocess
    import sys
    data = tmp_path / "data"
    (data / "corpus").mkdir(parents=True)
    shutil.copy(data_dir / "train.bin", data / "heldout.bin")
    (data / "corpus" / "heldout.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in SNIPPETS))
    outs = {}
    for kind, extra in (("autoregressive", ()), ("block", ("--attention", "block_causal", "--block-size", "4")), ("diffusion", ())):
        run_train(data_dir, tmp_path / kind, "diffusion" if kind == "block" else kind, 3, extra)
        outs[kind] = export.export(str(tmp_path / kind / "ckpt.pt"), f"qs-eval-{kind}", str(tmp_path / "models"),
                                   str(data_dir))
    res = tmp_path / "eval.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "training", "eval.py"), "--model", outs["autoregressive"],
                        "--model", outs["block"], "--model", outs["diffusion"], "--data", str(data), "--metrics", "bpb", "--windows", "3",
                        "--t-samples", "2", "--out", str(res)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    got = json.load(open(res))
    ar, block = got["qs-eval-autoregressive"], got["qs-eval-block"]
    assert block["bits_per_byte_exact"] < block["bits_per_byte"]  # the exact likelihood under the ELBO bound
    assert ar["bits_per_byte_exact"] == ar["bits_per_byte"] and ar["bpb_kind"] == "exact NLL"
    assert "bits_per_byte_exact" not in got["qs-eval-diffusion"]  # full attention: no left-to-right likelihood
    # the same windows as eval.py's bits_per_byte (seed 0), the NLL recomputed
    import eval as ev
    model, tok = export.load_model(outs["autoregressive"]), Tokenizer.load(os.path.join(outs["autoregressive"], "tokenizer.json"))
    held = np.memmap(str(data / "heldout.bin"), dtype=np.uint16, mode="r")
    L, nbytes = model.cfg.max_seq_len, ev.token_bytes(tok)
    nats = total = 0.0
    for s in np.random.default_rng(0).integers(0, len(held) - L, size=3):
        x = torch.from_numpy(held[s:s + L].astype(np.int64))
        with torch.no_grad():
            nats += torch.nn.functional.cross_entropy(model(x[None])[0, :-1], x[1:], reduction="sum").item()
        total += int(nbytes[x[1:].numpy()].sum())
    assert abs(ar["bits_per_byte_exact"] - nats / np.log(2) / total) < 1e-3


def test_every_shipped_model_reports_exact_bits_per_byte():
    """Each public/models config.json eval has bits_per_byte_exact: an AR model's is its NLL
    (bits_per_byte), a block-causal model's is below its ELBO bound (bits_per_byte)."""
    configs = sorted(glob.glob(os.path.join(ROOT, "public", "models", "*", "config.json")))
    assert configs
    for path in configs:
        c = json.load(open(path))
        e = c["eval"]
        assert "bits_per_byte_exact" in e, path
        if c["kind"] == "autoregressive":
            assert e["bits_per_byte_exact"] == e["bits_per_byte"], path
        else:
            assert c.get("attention") == "block_causal" and e["bits_per_byte_exact"] < e["bits_per_byte"], path


def test_gpu_pair_continues_an_ar_model_as_a_block_diffusion_pair(data_dir, tmp_path):
    """training/gpu_pair.sh's Model v2 run (INIT, DIFF_ARGS, AR_BATCH, TOKENS), on the CPU with a
    tiny model: both continue the init model for the same tokens on the same windows, the
    diffusion run block-causal, and both come back as exported folders in OUT."""
    import lzma
    import shutil
    import subprocess
    import sys
    import tarfile
    repo = tmp_path / "repo"
    (repo / "training").mkdir(parents=True)
    for f in glob.glob(os.path.join(ROOT, "training", "*.py")) + [os.path.join(ROOT, "training", "gpu_pair.sh")]:
        shutil.copy(f, repo / "training")
    run_train(data_dir, tmp_path / "init-run", "autoregressive", 3)
    init = export.export(str(tmp_path / "init-run" / "ckpt.pt"), "qs-test-ar", str(tmp_path / "models"), str(data_dir))
    carry = tmp_path / "carry"
    carry.mkdir()
    with open(data_dir / "train.bin", "rb") as src, lzma.open(carry / "train.bin.xz", "wb") as dst:
        dst.write(src.read())
    shutil.copy(data_dir / "tokenizer.json", carry)
    (carry / "train.json").write_text("{}")
    (carry / "recipe.json").write_text("{}")
    steps, B, C, L = 4, 2, 2, 128
    env = dict(os.environ, INIT=init, SIZE="tiny", SUFFIX="-v2", BATCH=str(B), AR_BATCH=str(B + C),
               TOKENS=str(steps * (B + C) * L), EVAL_SECONDS="0", PY=sys.executable, QS_GIT_COMMIT="test",
               DIFF_ARGS=f"--attention block_causal --block-size 4 --fim-clean {C}",
               TRAIN_ARGS="--lr 1e-3 --warmup 2 --threads 1")
    out = tmp_path / "out"
    r = subprocess.run(["bash", "training/gpu_pair.sh", str(carry), str(out), "10"], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    init_w = export.read_safetensors(os.path.join(init, "model.safetensors"))
    for kind, attention in (("diffusion", "block_causal"), ("ar", "causal")):
        with tarfile.open(out / f"qs-code-{kind}-tiny-v2.tar") as t:
            t.extractall(tmp_path / "got")
        folder = tmp_path / "got" / f"qs-code-{kind}-tiny-v2"
        cfg = json.load(open(folder / "config.json"))
        assert cfg.get("attention", "causal") == attention
        hist = cfg["training"]["history"]
        assert hist[0]["model"] == "qs-test-ar" and hist[0]["to_tokens"] == 3 * 8 * 128  # the init's run
        assert hist[-1]["to_tokens"] - hist[-1]["from_tokens"] == steps * (B + C) * L  # equal tokens
        w = export.read_safetensors(str(folder / "model.safetensors"))
        assert set(w) == set(init_w) and any(not np.array_equal(w[k], init_w[k]) for k in w)  # trained
