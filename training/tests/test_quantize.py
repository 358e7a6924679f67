"""int8 quantisation (training/quantize.py) and its export (export.py --int8)."""
import json
import os

import numpy as np
import pytest
import torch

import export
import quantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_rtn_error_is_at_most_half_a_scale_step():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((37, 192)) * rng.uniform(0.01, 2, (37, 1))
    w[3, :64] = 0.0                                   # an all-zero group
    for group in (32, 64, 0):
        q, s = quantize.quantize_rtn(w, group)
        g = quantize.group_for(192, group)
        assert q.dtype == np.int8 and s.dtype == np.float16 and s.shape == (37, 192 // g)
        assert np.abs(q.astype(int)).max() <= 127
        err = np.abs(quantize.dequantize(q, s).astype(np.float64) - w)
        bound = np.repeat(s.astype(np.float64), g, axis=1) / 2
        assert np.all(err <= bound * (1 + 1e-6) + 1e-12)
        assert np.all(q[3, :64] == 0) if group and group <= 64 else True


def test_group_for_falls_back_to_a_divisor():
    assert quantize.group_for(192, 64) == 64
    assert quantize.group_for(176, 32) == 16
    assert quantize.group_for(176, 0) == 176
    assert quantize.group_for(30, 64) == 30


def test_gptq_lowers_the_output_error_on_calibration_data():
    rng = np.random.default_rng(1)
    cols, rows, n = 128, 96, 4000
    # correlated inputs with a few large channels, as activations have
    mix = rng.standard_normal((cols, cols)) * 0.3 + np.eye(cols)
    X = rng.standard_normal((n, cols)) @ mix * rng.uniform(0.2, 3, cols)
    H = X.T @ X / n
    w = rng.standard_normal((rows, cols)) * 0.05
    for group in (32, 64):
        q0, s0 = quantize.quantize_rtn(w, group)
        q1, s1 = quantize.gptq(w, H, group)
        e_rtn = quantize.output_error(w, quantize.dequantize(q0, s0), H)
        e_gptq = quantize.output_error(w, quantize.dequantize(q1, s1), H)
        assert e_gptq < 0.7 * e_rtn, (group, e_rtn, e_gptq)
        assert np.abs(q1.astype(int)).max() <= 127


def test_gptq_with_identity_hessian_is_plain_rounding():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((20, 64))
    q0, s0 = quantize.quantize_rtn(w, 32)
    q1, s1 = quantize.gptq(w, np.eye(64), 32, damp=0.0)
    assert np.array_equal(s0, s1) and np.array_equal(q0, q1)


def test_int8_export_of_the_tiny_model(tmp_path):
    src = os.path.join(ROOT, "public", "models", "qs-code-ar-tiny")
    rng = np.random.default_rng(3)
    calib = rng.integers(0, 4093, 64 * 256).astype(np.uint16)
    out = export.export_int8(src, "tiny-int8", str(tmp_path), None, group=32, calib_windows=8,
                             log=lambda s: None, calib_data=calib)
    cfg = json.load(open(os.path.join(out, "config.json")))
    assert cfg["dtype"] == "int8" and cfg["quantization"]["group_size"] == 32
    assert cfg["format"] == json.load(open(os.path.join(src, "config.json")))["format"]
    st = export.read_safetensors(os.path.join(out, "model.safetensors"))
    w1 = st["layers.0.ffn.w1.weight"]
    assert w1.dtype == np.int8 and st["layers.0.ffn.w1.weight_scale"].dtype == np.float16
    assert st["layers.0.ffn.w1.weight_scale"].shape == (w1.shape[0], w1.shape[1] // 32)
    assert st["layers.0.ffn.w2.weight_scale"].shape[1] == cfg["ffn_dim"] // quantize.group_for(cfg["ffn_dim"], 32)
    assert st["tok_embeddings.weight"].dtype == np.int8
    assert st["norm.weight"].dtype == np.float16
    f16_bytes = os.path.getsize(os.path.join(src, "model.safetensors"))
    assert os.path.getsize(os.path.join(out, "model.safetensors")) < 0.56 * f16_bytes
    a, b = export.load_model(src), export.load_model(out)
    ids = torch.from_numpy(calib[:128].astype(np.int64))[None]
    with torch.no_grad():
        la, lb = a(ids), b(ids)
    assert ((la - lb).norm() / la.norm()).item() < 0.02
    golden = json.load(open(os.path.join(out, "golden.json")))["cases"]
    with torch.no_grad():
        got = b(torch.tensor(golden[0]["input_ids"])[None])[0][golden[0]["positions"]]
    assert torch.allclose(got, torch.tensor(golden[0]["logits"]), atol=1e-4, rtol=1e-4)
    # the source's eval numbers ride in quantization.source_eval (models-index's qualityHolds
    # reads them where the float model is not shipped): copied at export, or given by --update
    src_eval = json.load(open(os.path.join(src, "config.json")))["eval"]
    assert cfg["quantization"]["source_eval"] == {k: src_eval[k] for k in ("bits_per_byte", "bits_per_byte_exact", "syntax_valid", "n_functions")
                                                  if k in src_eval}
    assert cfg["eval"] == {}
    own = {"bits_per_byte": 2.5, "syntax_valid": 0.04, "syntax_outcomes": "01"}
    export.set_eval(out, own, {"tiny-int8": own, "qs-code-ar-tiny": {"bits_per_byte": 2.4, "syntax_valid": 0.05, "infill_exact": 0.0}})
    cfg = json.load(open(os.path.join(out, "config.json")))
    assert cfg["eval"] == {"bits_per_byte": 2.5, "syntax_valid": 0.04}
    assert cfg["quantization"]["source_eval"] == {"bits_per_byte": 2.4, "syntax_valid": 0.05}
    manifest = json.load(open(os.path.join(out, "manifest.json")))["files"]
    assert manifest["config.json"]["bytes"] == os.path.getsize(os.path.join(out, "config.json"))


def test_scale_tuning_brings_the_int8_model_closer_to_the_float_one():
    """tune_scales keeps every q, leaves float16 scales and norms, and lowers KL(float || int8) on
    windows it did not see (random tiny model; plain rounding at a coarse group, so there is
    error to win back)."""
    import copy
    from model import ModelConfig, Transformer
    torch.manual_seed(0)
    cfg = ModelConfig(kind="autoregressive", vocab_size=64, dim=32, n_layers=2, n_heads=2, ffn_dim=64, max_seq_len=32)
    float_model = Transformer(cfg).eval()
    with torch.no_grad():                      # weights with a spread, as trained ones have
        for p in float_model.parameters():
            if p.dim() == 2:
                p.mul_(torch.exp(torch.randn(p.shape[0], 1)))
    gen = torch.Generator().manual_seed(1)
    batches = lambda: ({"tokens": torch.randint(0, 64, (8, 32), generator=gen)} for _ in range(4))
    held = torch.randint(0, 64, (16, 32), generator=torch.Generator().manual_seed(2))

    def kl(m):
        with torch.no_grad():
            a, b = float_model(held).log_softmax(-1), m(held).log_softmax(-1)
        return (a.exp() * (a - b)).sum(-1).mean().item()

    m = copy.deepcopy(float_model)
    qs = quantize.quantize_model(m, batches, 0, "rtn", log=lambda s: None)
    before = kl(m)
    tuned = quantize.tune_scales(m, float_model, qs, batches, steps=60, lr=3e-3, log=lambda s: None)
    after = kl(m)
    assert after < 0.8 * before, (before, after)
    assert set(tuned) == set(qs)
    for name, (q, s) in tuned.items():
        assert np.array_equal(q, qs[name][0]) and s.dtype == np.float16 and s.shape == qs[name][1].shape
        assert np.allclose(m.state_dict()[name].numpy(), quantize.dequantize(q, s))   # weights = q · scale
    assert not np.array_equal(tuned["layers.0.ffn.w1.weight"][1], qs["layers.0.ffn.w1.weight"][1])
    norm = m.state_dict()["norm.weight"]
    assert torch.equal(norm, norm.half().float())                                       # float16 norms
    assert not any(hasattr(mod, "parametrizations") for mod in m.modules())


def test_fidelity_is_zero_for_the_same_model_and_grows_with_the_error():
    import copy
    from model import ModelConfig, Transformer
    from quant_fidelity import fidelity
    torch.manual_seed(3)
    cfg = ModelConfig(kind="autoregressive", vocab_size=64, dim=32, n_layers=1, n_heads=2, ffn_dim=64, max_seq_len=16)
    f = Transformer(cfg).eval()
    X = torch.randint(0, 64, (4, 16), generator=torch.Generator().manual_seed(4))
    same = fidelity(f, copy.deepcopy(f), X)
    assert same["kl"] == pytest.approx(0, abs=1e-9) and same["greedy_changed"] == 0
    errs = []
    for noise in (0.3, 10.0):
        g = copy.deepcopy(f)
        with torch.no_grad():
            for name, p in g.named_parameters():
                if name.startswith("layers.") and p.dim() == 2:
                    p.add_(noise * 0.02 * torch.randn_like(p))
        errs.append(fidelity(f, g, X))
    assert 0 < errs[0]["kl"] < errs[1]["kl"] and errs[1]["greedy_changed"] > 0


def test_deepen_costs_more_and_decides_the_same(tmp_path):
    """bench/deepen.py: the shipped small int8 diffusion model with its ffn widened and two identity
    layers appended has more weights and the same logits in the reference (block step and full
    forward); a float model, and an ffn width that is not a multiple of w2's group, are refused."""
    import subprocess
    import sys
    from model import block_step
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = os.path.join(root, "public", "models", "qs-code-diffusion-small-v3-int8")
    tool = os.path.join(root, "bench", "deepen.py")
    dst = str(tmp_path / "deep")
    r = subprocess.run([sys.executable, tool, src, dst, "--ffn", "640", "--extra-layers", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a, b = export.load_model(src).eval(), export.load_model(dst).eval()
    assert (b.cfg.n_layers, b.cfg.ffn_dim) == (a.cfg.n_layers + 2, 640) and a.cfg.ffn_dim < 640
    assert sum(p.numel() for p in b.parameters()) > sum(p.numel() for p in a.parameters())
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, a.cfg.vocab_size - 3, (1, 90), generator=g)
    block = torch.full((1, 8), a.cfg.vocab_size - 1)
    with torch.no_grad():
        la, lb = a(x), b(x)
        sa = block_step(a, x, list(range(90)), block, 90)
        sb = block_step(b, x, list(range(90)), block, 90)
    assert (la - lb).abs().max().item() < 1e-3 * la.abs().max().item()
    assert (sa - sb).abs().max().item() < 1e-3 * sa.abs().max().item()
    assert torch.equal(la.argmax(-1), lb.argmax(-1))
    # the appended layers: attention and ffn computed (wq nonzero), their outputs zero (wo, w2)
    t = export.read_safetensors(os.path.join(dst, "model.safetensors"))
    n = a.cfg.n_layers
    assert not t[f"layers.{n}.attn.wo.weight"].any() and not t[f"layers.{n + 1}.ffn.w2.weight"].any()
    assert t[f"layers.{n}.attn.wq.weight"].any()  # computed as a real layer's
    bad = subprocess.run([sys.executable, tool, os.path.join(root, "public", "models", "qs-code-diffusion-small-v3"), dst + "2",
                          "--ffn", "640"], capture_output=True, text=True)
    assert bad.returncode != 0 and "not an int8 export" in bad.stderr
    odd = subprocess.run([sys.executable, tool, src, dst + "3", "--ffn", "650"], capture_output=True, text=True)
    assert odd.returncode != 0 and "not a multiple of this model's w2 group (64 columns)" in odd.stderr
