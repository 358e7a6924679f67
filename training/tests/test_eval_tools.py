"""eval.py's per-header outcomes and loop guard, training/paired.py (two models' syntax-valid outcomes
compared header by header) and training/infill_rank.py's ranking rules."""
import json
import math
import subprocess
import sys

import pytest
import torch
import eval as E
import export
import paired
from model import ModelConfig, Transformer
from tokenizer import Tokenizer
from tokenizer import train as train_tokenizer

HERE = paired.__file__


def test_compare_counts_discordant_headers_and_pairs_the_error():
    x = [True, True, False, False, True, True]
    y = [True, False, False, True, False, True]
    rx, ry, ox, oy, d, se, p = paired.compare(x, y)
    assert (rx, ry, ox, oy) == (4 / 6, 3 / 6, 2, 1)
    assert d == pytest.approx(1 / 6)
    # d_i in {+1, -1, 0}: variance E[d^2] - d^2 = 3/6 - 1/36, over n
    assert se == pytest.approx(math.sqrt((3 / 6 - 1 / 36) / 6))
    assert p == 1.0                      # 2 : 1 is no evidence
    with pytest.raises(ValueError):
        paired.compare(x, y[:-1])


def test_sign_test_is_the_exact_two_sided_binomial():
    assert paired.sign_test(0, 0) == 1.0
    assert paired.sign_test(0, 6) == pytest.approx(2 / 64)
    assert paired.sign_test(6, 0) == paired.sign_test(0, 6)
    assert paired.sign_test(2, 8) == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert paired.sign_test(10, 10) == 1.0


def test_cli_reads_eval_files_and_names_a_model_when_a_file_holds_two(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"m1": {"syntax_outcomes": "1101", "syntax_valid": 0.75},
                             "m2": {"syntax_outcomes": "0001", "syntax_valid": 0.25}}))
    b.write_text(json.dumps({"m3": {"syntax_valid": 0.5}}))
    run = lambda *args: subprocess.run([sys.executable, HERE, *args], capture_output=True, text=True)
    out = run(f"{a}:m1", f"{a}:m2")
    assert out.returncode == 0, out.stderr
    assert "only m1: 2 headers; only m2: 0" in out.stdout and "+50.0 points" in out.stdout
    assert "m1" in run(str(a), f"{a}:m2").stderr      # which of a's two models?
    assert "no syntax_outcomes" in run(f"{a}:m1", str(b)).stderr
    assert "no model m9; it holds m1, m2" in run(f"{a}:m9", f"{a}:m1").stderr


def test_syntax_valid_records_one_outcome_per_header_matching_its_rate(tmp_path, monkeypatch):
    texts = ["def f(a):\n    return a\n", "def g(x, y):\n    if x:\n        return y\n"] * 20
    tok = Tokenizer(train_tokenizer(texts, 256 + 3 + 40, log=lambda *_: None))
    model = Transformer(ModelConfig(kind="autoregressive", vocab_size=tok.vocab_size, dim=32, n_layers=1, n_heads=2,
                                    ffn_dim=64, max_seq_len=64)).eval()
    # the bodies "written": one parses, one does not, one parses; then the next header's text
    bodies = iter(["\n    return a\n", "\n    return (\n", "\n        if x:\n            pass\n    def k():\n"])
    monkeypatch.setattr(E, "ar_generate", lambda m, t, p, n, loop_guard=False: t.encode(next(bodies)))
    outcomes, failures = [], {}
    rate, tpf = E.syntax_valid(model, tok, ["def f(a):", "def g(x, y):", "    def h(self):"], 6, outcomes=outcomes,
                               failures=failures)
    assert outcomes == [True, False, True] and rate == pytest.approx(2 / 3) and tpf is None
    assert failures == {"bracket not closed": 1}
    # export keeps the outcomes out of config.json
    out = tmp_path / "m"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"eval": {}}))
    export.set_eval(str(out), {"syntax_valid": rate, "syntax_outcomes": "101"})
    assert json.loads((out / "config.json").read_text())["eval"] == {"syntax_valid": rate}


def test_infill_rank_rules_pick_per_hole_and_tie_to_the_first():
    import infill_rank as R
    c = lambda sim, exact, fill, suffix, both=None: {"sim": sim, "exact": exact, "fill": fill, "suffix": suffix,
                                                       "both_sides": both, "line": f"x = {sim}"}
    rows = [[c(0.2, False, [-1.0], [-5.0] * 40), c(1.0, True, [-3.0], [-1.0] * 40)],   # the suffix knows better
            [c(0.6, False, [-1.0], [-2.0] * 40), c(0.4, False, [-1.0], [-2.0] * 40)],  # a tie: the first
            # an unlikely fill (a copied line) the suffix likes a little better: only the fill's weight turns it down
            [c(0.3, False, [-40.0], [-1.0] * 40), c(0.9, False, [-2.0], [-1.5] * 40)]]
    out = R.score_rules(rows)
    assert out["oracle (knows the line)"] == {"exact": 1 / 3, "similarity": round(2.5 / 3, 4)}
    assert out["decoded fill"] == {"exact": 0.0, "similarity": round(1.1 / 3, 4)}
    assert out["suffix, 32 tokens"] == {"exact": 1 / 3, "similarity": round(1.9 / 3, 4)}
    assert out["suffix 32 + 0.75 x fill, best score (the app's rule before the consensus)"] == {"exact": 1 / 3, "similarity": round(2.5 / 3, 4)}
    # far apart scores: the consensus is the best score
    assert out["consensus of suffix 32 + 0.75 x fill at T = 2.5 (the app's rule)"] == {"exact": 1 / 3, "similarity": round(2.5 / 3, 4)}
    assert "fill given both sides" not in out        # not scored for AR models
    rows[2][1]["copied"] = True                      # the better fill of the third hole is only a line in view
    out = R.score_rules(rows)
    assert out["suffix 32 + 0.75 x fill, no lines in view"] == {"exact": 1 / 3, "similarity": round(1.9 / 3, 4)}
    assert out["suffix 32 + 0.75 x fill, best score (the app's rule before the consensus)"] == {"exact": 1 / 3, "similarity": round(2.5 / 3, 4)}


def test_mbr_picks_the_line_most_like_the_others_weighted_by_score():
    import infill_rank as R
    c = lambda line, suffix: {"line": line, "suffix": [suffix], "fill": [0.0]}
    row = [c("return a", 0.0), c("return a + b", 0.0), c("return a + b + c", 0.0), c("pass", 0.0)]
    assert R.mbr(row, lambda x: 0.0) == 1                     # the middle one is closest to the rest
    row[3]["suffix"] = [50.0]                                 # one candidate the suffix is sure of
    assert R.mbr(row, lambda x: sum(x["suffix"])) == 3
    assert E.first_line("\n    y = 1\nz") == "    y = 1"


def test_suffix_reaches_end_says_whether_a_budget_cut_the_suffix():
    from types import SimpleNamespace
    tok = SimpleNamespace(encode=lambda text: [ord(ch) for ch in text])
    assert E.suffix_reaches_end(tok, "ab\ncd", tok.encode("ab\ncd"))
    assert not E.suffix_reaches_end(tok, "ab\ncd", tok.encode("ab\nc"))   # cut: "c" is not the last line
    assert E.suffix_reaches_end(tok, "", [])


def test_top_k_consensus_votes_among_the_k_best_scoring_only():
    import infill_rank as R
    c = lambda line, suffix: {"line": line, "suffix": [suffix], "fill": [0.0]}
    # three unlikely candidates agree on "pass"-like lines; the two likeliest on "return a..."
    row = [c("pass", -3.0), c("return a", 0.0), c("passe", -3.0), c("return a + b", -0.5), c("pas", -3.0)]
    assert R.mbr(row, R.app_score, 8.0) == 0                  # all five vote, softly: the unlikely three win
    assert R.top_k_consensus(row, 2, 8.0) == 1                # only the two likeliest vote: an index into the row
    assert R.top_k_consensus(row, 5, 8.0) == R.mbr(row, R.app_score, 8.0)
    assert R.top_k_consensus(row, 1) == 1                     # one voter: the best score


def test_soup_averages_runs_from_one_init_and_refuses_others(tmp_path):
    import soup
    def ck(w, seed, init=None, config=None):
        return {"model": {"w": torch.tensor([w, 2 * w])},
                "state": {"step": 10, "tokens_seen": 1000, "seconds": 5, "losses": [],
                          "history": [{"to_tokens": 50}, {"from_tokens": 50, "to_tokens": 1050}],
                          "init": init or {"model": "ar", "tokens_seen": 50}},
                "info": {"config": config or {"dim": 4}, "args": {"seed": seed}}}
    paths = []
    for i, c in enumerate([ck(1.0, 1), ck(3.0, 2), ck(0.0, 3, init={"model": "other", "tokens_seen": 1}),
                           ck(0.0, 4, config={"dim": 8})]):
        paths.append(str(tmp_path / f"{i}.pt"))
        torch.save(c, paths[-1])
    s = soup.soup(paths[:2])
    assert s["model"]["w"].tolist() == [2.0, 4.0]
    assert s["state"]["tokens_seen"] == 2000 and s["state"]["step"] == 20
    assert s["info"]["args"]["soup"] == [1, 2]
    assert len(s["state"]["history"]) == 3                    # the init's, then each run
    for bad in (paths[2], paths[3]):
        with pytest.raises(SystemExit):
            soup.soup([paths[0], bad])


def test_loop_bans_name_the_token_that_would_make_a_third_copy():
    assert E.loop_bans([5, 1, 2, 1, 2, 1]) == {2}                  # "1 2 1 2 1" + 2: three copies of "1 2"
    assert E.loop_bans([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3]) == {4}
    assert E.loop_bans([7] * 5) == {7} and E.loop_bans([7] * 4) == set()   # one token: six in a row
    assert E.loop_bans([1, 2, 1, 3, 1, 2]) == set()
    # the guarded choice skips a banned best token for the next best
    logits = torch.tensor([0.0, 3.0, 2.0, 1.0])
    assert E.guarded_argmax(logits, [1, 2, 1, 2, 1], True) == 1    # bans 2; 1 is best anyway
    assert E.guarded_argmax(logits, [2, 1, 2, 1, 2], True) == 2    # bans 1: the next best
    assert E.guarded_argmax(logits, [2, 1, 2, 1, 2], False) == 1


def test_failure_names_why_a_body_does_not_parse():
    assert E.failure("def f():", "\n    return 1\n") is None
    assert E.failure("def f():", "\ndef g():\n") == "empty"                        # nothing indented
    assert E.failure("def f():", '\n    """Doc\n    more doc\n    and more') == "docstring not closed"
    assert E.failure("def f():", "\n    x = [1,\n        2,\n") == "bracket not closed"
    assert E.failure("def f():", "\n    if x:\n    return 1\n") == "no block after ':'"
    assert E.failure("def f():", "\n    x = = 1\n").startswith("other: ")
    assert E.function_ok("def f():", "\n    return 1\n") and not E.function_ok("def f():", "\ndef g():\n")


def test_bench_syntax_py_runs_eval_py_rules_without_torch():
    """bench/syntax.py (bench:generate and bench:infill call it) takes eval.py's functions from its
    source; its answers are eval.py's own, and it still finds every function they call."""
    import os
    script = os.path.join(os.path.dirname(HERE), "..", "bench", "syntax.py")
    cases = [{"head": "def f(x):", "body": ":\n    return x + 1\n"},
             {"head": "def g(x):", "body": ":\n    return (x +\n"},
             {"head": "def h():", "body": ":\n    '''doc\n    more\n"}]
    out = subprocess.run([sys.executable, script, "check"], input=json.dumps(cases), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [E.function_ok(c["head"], c["body"]) for c in cases]
    assert json.loads(out.stdout)[0] is True and False in json.loads(out.stdout)
    pairs = [{"got": "\n    y = x + 1", "line": "    y = x + 2"}, {"got": "z", "line": "z"}]
    out = subprocess.run([sys.executable, script, "similarity"], input=json.dumps(pairs), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [list(E.line_score(p["got"], p["line"])) for p in pairs]


def test_ensemble_decode_ends_are_the_two_heads_own_greedy_decodings():
    """weight 0: the AR head's greedy text (causal forward, argmax); weight 1: one token per step
    in order through each block from its block rows (block_decode leftToRight, one per step);
    in between a mix that differs from both somewhere on a random model."""
    from types import SimpleNamespace
    torch.manual_seed(5)
    V = 40
    tok = SimpleNamespace(mask=V - 1, pad=V - 2, eos=V - 3)
    model = Transformer(ModelConfig(kind="diffusion", vocab_size=V, dim=32, n_layers=2, n_heads=2, ffn_dim=48,
                                    max_seq_len=64, attention="block_causal", block_size=4, shift=True)).eval()
    for p in model.parameters():
        p.data.mul_(3)  # sharper, less uniform logits
    with torch.no_grad():
        model.tok_embeddings.weight[[tok.pad, tok.eos]] = 0  # (tied) no end token: the whole span is text
    prefix, n = [3, 7, 11, 2, 9], 12
    with torch.no_grad():
        x = list(prefix)
        for _ in range(n):
            lg = model(torch.tensor([x]))[0, -1]
            lg[tok.mask] = -float("inf")
            x.append(int(lg.argmax()))
            if x[-1] in (tok.pad, tok.eos):
                x += [tok.pad] * (len(prefix) + n - len(x))
                break
    ar = x[len(prefix):]
    w0, f0 = E.ensemble_decode(model, tok, prefix, n, 4, 0.0)
    assert w0 == ar and f0 == n  # one forward per token: no block row at weight 0
    w1, _ = E.ensemble_decode(model, tok, prefix, n, 4, 1.0)
    in_order, _ = E.block_decode(model, tok, prefix, n, tau=1.01, block=4, order="leftToRight")
    assert w1 == in_order
    assert w1 != w0, "the random model's two heads should disagree somewhere"
    with pytest.raises(ValueError, match="no infill"):
        E.block_decode(model, tok, prefix, n, suffix=[4, 5], tau=0.5, block=4, order="ensemble")


def test_tree_bound_replays_chains_and_trees_on_recorded_guesses():
    import tree_bound as T
    # g = 10, 11, 12, 13; at every p the mask rows guess: +1 right only as the 2nd choice, +2 right as the 1st
    g = [10, 11, 12, 13]
    row = lambda p: ([[g[p], 0]] + [[99, g[p + 1] if p + 1 < 4 else 0], [g[p + 2] if p + 2 < 4 else 0, 98]],
                     [[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
    rec = {"g": g, "rows": [row(p) for p in range(4)]}
    # chain: the drafts are the top-1 run >= tau, [99, g[p+2]]: the first is always wrong
    assert T.replay(rec, "chain") == (4, 4)           # no draft ever kept: one token a forward
    assert T.replay(rec, "every") == (4, 4)
    assert T.tree(rec["rows"][0], 3, 2) == {(99,), (11,), (99, 12)}   # 0.6, 0.4, 0.6 * 0.5 (ties by id order)
    # step 1: g0 alone; step 2: (11,) kept from the tree, 12 from the AR head; step 3: (13,) kept: 3 forwards
    assert T.replay(rec, "tree", budget=3, k=2) == (4, 3)
    assert T.replay(rec, "tree", budget=1, k=2) == (4, 4)     # only (99,): nothing kept


def test_consensus_pick_votes_with_softened_scores():
    """candidates.ts consensusPick's twin: sharp scores give the best score, soft ones the line most
    like the others, and in between the weighted sum of difflib ratios decides; ties to the first."""
    import difflib
    lines = ["    a = f(x)", "    a = f(y)", "    return", "    a = g(x)"]
    scores = [-3, -3.2, -1, -3.1]
    assert E.consensus_pick(lines, scores, 1e-3) == 2 and E.consensus_pick(lines, scores, 1e3) == 0
    for T in (0.5, 1, 2.5, 8):
        gain = [sum(math.exp((s + 1) / T) * difflib.SequenceMatcher(None, a, b).ratio() for s, b in zip(scores, lines)) for a in lines]
        assert E.consensus_pick(lines, scores, T) == gain.index(max(gain))
    assert E.consensus_pick(["x", "x", "y"], [0, 0, 0], 1) == 0
    # of the candidates with the chosen first line, the best-scoring (a whole fill beats its own first line)
    assert E.consensus_pick(["a = 1", "a = 1", "b = 2"], [-20, 0, -3], 2.5) == 1
    assert E.consensus_pick(["a = 1", "a = 1", "b = 2"], [0, -20, -3], 2.5) == 0
    # as candidates.ts: none; temperature 0, the best score; NaN as -inf; no finite score, a plain vote
    nan, inf = float("nan"), float("inf")
    assert E.consensus_pick([], [], 2.5) == -1 and E.consensus_pick(lines, scores, 0) == 2
    assert E.consensus_pick(lines, [nan, -3.2, -1, nan], 1e-3) == 2
    assert E.consensus_pick(lines, [-inf] * 4, 2.5) == E.consensus_pick(lines, [0] * 4, 2.5)


def test_copied_lines_and_reading_score_as_the_app_ranks_fills():
    """candidates.ts copiedLines / readingScore's Python twins: lines in view from a line-start token
    to the next break; the fill's and the suffix's log-likelihoods from one forward, each token's
    from a causal forward of the text before it."""
    from types import SimpleNamespace
    V = 40
    text = {7: "\n  ", 14: "\n", 21: "\n    ", 22: "x\n", 5: "  ", 23: "\n\n  ", 24: "\n\n      "}
    tok = SimpleNamespace(mask=V - 1, pad=V - 2, eos=V - 3, vocab_size=V,
                          decode=lambda ids: "".join(text.get(t, f"w{t} ") for t in ids))
    breaks = E.newline_ids(tok)
    starts = E.line_starts(tok)
    # a blank line first: the line starts as one break would ("\n\n  " -> "\n  "); none has "\n      "
    assert starts == {7: 7, 14: 14, 21: 21, 23: 7} and breaks == {7, 14, 21, 22, 23, 24}
    prefix, suffix = [1, 7, 2, 3, 14, 5, 21, 4, 22, 9, 23, 10, 11, 24, 12], [21, 6, 8, 11, 12, 7, 1]
    # [14, 5] is blank, [22, 9] and [24, 12] start no line, [21, 6, 8, 11, 12] is longer than 3, [7, 1]
    # runs to the suffix's end (the budget cut it)
    for whole in (True, False):
        assert E.copied_lines(tok, prefix, suffix, 3, breaks, starts, whole) == [[7, 2, 3], [21, 4], [7, 10, 11]]
    assert [21, 6, 8, 11, 12] in E.copied_lines(tok, prefix, suffix, 5, breaks, starts, True)
    # the prefix's last line ends at the hole: whole when the fill begins a line, else the text before a mid-line cursor
    assert E.copied_lines(tok, [1, 7, 2, 3, 7, 4], [9, 7, 6, 7, 8], 3, breaks, starts, True) == [[7, 2, 3], [7, 4], [7, 6]]
    assert E.copied_lines(tok, [1, 7, 2, 3, 7, 4], [9, 7, 6, 7, 8], 3, breaks, starts, False) == [[7, 2, 3], [7, 6]]
    # the suffix's unended last line is whole when the suffix is the text's end (no final line break)
    assert E.copied_lines(tok, [1, 7, 2, 3, 7, 4], [9, 7, 6, 7, 8], 3, breaks, starts, False, True) == [[7, 2, 3], [7, 6], [7, 8]]
    assert [E.fill_begins_line(tok, d, breaks) for d in ([7, 4], [4, 7], [5, tok.pad, 4], [tok.eos, 7], [])] == [True, False, None, None, None]
    # a decoded fill on the line before: cuts and beams must begin so too, copied lines need not
    dec, cands = E.fill_candidates(tok, [3, 4, 7, 9, tok.pad], [[7, 2], [6]], breaks, [[7, 2], [7, 10], [14]])
    assert dec == [3, 4, 7, 9] and cands == [[3, 4], [3, 4, 7, 9], [6], [7, 2], [7, 10]]
    torch.manual_seed(3)
    model = Transformer(ModelConfig(kind="diffusion", vocab_size=V, dim=32, n_layers=2, n_heads=2, ffn_dim=48,
                                    max_seq_len=64, attention="block_causal", block_size=4, shift=True)).eval()
    for pre, ids in [([3, 7, 11, 2], [9, 4, 5]), ([], [9, 4, 5])]:
        x = pre + ids + suffix[:4]
        want = [0.0, 0.0]
        with torch.no_grad():
            for i in range(max(len(pre), 1), len(x)):
                lg = model(torch.tensor([x[:i]]))[0, -1].double()
                lg[tok.mask] = -float("inf")
                want[i >= len(pre) + len(ids)] += lg.log_softmax(-1)[x[i]].item()
        got = E.reading_score(model, tok, pre, ids, suffix[:4])
        assert got == pytest.approx(tuple(want), abs=1e-4)
