"""The Quicksilver transformer: one LLaMA-style class for both kinds (docs/MODEL_FORMAT.md).

kind "diffusion":      bidirectional attention, predicts the original token at corrupted positions.
kind "autoregressive": the same blocks with a causal mask, predicts the next token.

attention "block_causal" (format 2, Model v2): a diffusion model that keeps its AR twin's
next-token head ("shift": the row of position i predicts token i + 1). Its canvas is a clean
stream, attended causally (the KV cache of decoding, and the AR loss in training), and noisy
blocks of `block_size` rows that see the clean tokens before the block and each other both ways.
The caller gives positions and the attention mask (objective.block_layout, eval.py); forward()
without them runs the clean stream alone, which is exactly an AR model.

Rotary embedding uses the rotate-half convention: within each head, dimension i (< head_dim/2)
is paired with i + head_dim/2, rotated by angle pos * rope_theta ** (-2i / head_dim).
"""
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    kind: str = "diffusion"          # "diffusion" | "autoregressive"
    vocab_size: int = 4096
    dim: int = 256
    n_layers: int = 6
    n_heads: int = 8
    ffn_dim: int = 704
    max_seq_len: int = 256
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    attention: str = "full"          # "full" (diffusion) | "causal" (AR) | "block_causal" (v2)
    block_size: int = 0              # block_causal: the app's default decoding block
    shift: bool = False              # row i predicts token i + 1 (AR-initialised diffusion)

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return xf.type_as(x) * self.weight.type_as(x)


def rope_tables(cfg: ModelConfig, positions: torch.Tensor):
    """cos, sin of shape positions.shape + (head_dim,): angle pos * theta^(-2i/head_dim), repeated
    for both halves."""
    half = cfg.head_dim // 2
    inv_freq = cfg.rope_theta ** (-torch.arange(0, half, dtype=torch.float32) * 2 / cfg.head_dim)
    ang = positions.float().cpu()[..., None] * inv_freq            # (..., L, half), on the CPU
    ang = torch.cat([ang, ang], dim=-1)                            # (L, head_dim)
    return ang.cos(), ang.sin()


def apply_rope(x, cos, sin):
    """x: (B, H, L, head_dim). Rotate-half: [x1, x2] -> [x1*cos - x2*sin, x2*cos + x1*sin]."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    rotated = torch.cat([-x2, x1], dim=-1)
    return (x.float() * cos + rotated.float() * sin).type_as(x)


HAS_SDPA = hasattr(F, "scaled_dot_product_attention")  # torch >= 2.0 (fused kernels on CUDA)


def attention(q, k, v, mask, causal=False):
    """softmax(q kᵀ / sqrt(hd), keys where mask is False excluded) v; q, k, v: (B, H, L, hd).
    causal (with mask None, SDPA only): the causal mask by SDPA's is_causal, which lets CUDA use
    its flash kernel instead of reading an explicit (L, L) mask."""
    if HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    scores = (q @ k.transpose(-2, -1)).float() * q.shape[-1] ** -0.5   # (B, H, L, L)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return (scores.softmax(-1).type_as(v) @ v)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.wq = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wo = nn.Linear(cfg.dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, attn_mask, causal=False):
        B, L, D = x.shape
        H, hd = self.cfg.n_heads, self.cfg.head_dim
        q = self.wq(x).view(B, L, H, hd).transpose(1, 2)           # (B, H, L, hd)
        k = self.wk(x).view(B, L, H, hd).transpose(1, 2)
        v = self.wv(x).view(B, L, H, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = attention(q, k, v, attn_mask, causal)
        return self.wo(y.transpose(1, 2).reshape(B, L, D))


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.w1 = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.w3 = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.w2 = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn = FeedForward(cfg)

    def forward(self, x, cos, sin, attn_mask, causal=False):
        x = x + self.attn(self.attn_norm(x), cos, sin, attn_mask, causal)
        return x + self.ffn(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.output = None if cfg.tie_embeddings else nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2 style scaled init of residual projections
            if name.endswith("wo.weight") or name.endswith("w2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / (2 * cfg.n_layers) ** 0.5)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, tokens, n_valid=None, positions=None, attn_mask=None):
        """tokens: (B, L) int64 -> logits (B, L, vocab) float: head(hidden(...)).

        n_valid: optional (B,) number of real tokens; keys at positions >= n_valid (padding) are
        never attended to. Diffusion attends both ways; autoregressive and block-causal (without
        attn_mask) add the causal mask.
        positions: optional (L,) or (B, L) RoPE positions (default 0 .. L-1).
        attn_mask: optional bool (B or 1, 1, L, L), True where query i may attend key j; replaces
        the default mask (the block-causal layouts of objective.block_layout).
        """
        return self.head(self.hidden(tokens, n_valid, positions, attn_mask))

    def hidden(self, tokens, n_valid=None, positions=None, attn_mask=None):
        """forward's last residual stream (B, L, dim), before the final norm."""
        B, L = tokens.shape
        pos = torch.arange(L, device=tokens.device)
        cos, sin = rope_tables(self.cfg, pos if positions is None else positions)
        cos, sin = cos.to(tokens.device), sin.to(tokens.device)
        if cos.dim() == 3:                                                   # (B, L, hd) -> (B, 1, L, hd)
            cos, sin = cos[:, None], sin[:, None]
        mask, causal = attn_mask, False
        if mask is None and (self.cfg.kind == "autoregressive" or self.cfg.attention == "block_causal"):
            if HAS_SDPA and n_valid is None:
                causal = True                                                # SDPA's own causal mask
            else:
                mask = torch.ones(L, L, dtype=torch.bool, device=tokens.device).tril()[None, None]
        if n_valid is not None:
            keys = (pos[None, :] < n_valid[:, None])[:, None, None, :]       # (B, 1, 1, L)
            mask = keys if mask is None else mask & keys
        x = self.tok_embeddings(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin, mask, causal)
        return x

    def head(self, x):
        """Final norm and output projection (tied to the embedding unless cfg says not): (..., dim) -> (..., vocab)."""
        w = self.tok_embeddings.weight if self.output is None else self.output.weight
        return F.linear(self.norm(x), w)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def block_step(model, context, context_positions, block, block_pos0, context_rows=0):
    """One decoding step of a block-causal model, uncached (the engines' BlockStep): rows
    [context (causal, in cache order) | block (sees all context rows and the whole block)].
    context, block: (N, C) and (N, B) int64 (a batch of steps of the same shapes);
    context_positions: (C,) or (N, C). Returns logits (N, context_rows + B, vocab): first the AR
    head at the `context_rows` context rows before the last (BlockStep.contextRows), then row j
    predicting position block_pos0 + j (shift: the last context row for j = 0, else block row
    j - 1)."""
    N, C = context.shape
    B = block.shape[1]
    dev = context.device
    cpos = torch.as_tensor(context_positions, device=dev)
    if cpos.dim() == 1:
        cpos = cpos[None].expand(N, C)
    bpos = torch.arange(block_pos0, block_pos0 + B, device=dev)[None].expand(N, B)
    mask = torch.ones(C + B, C + B, dtype=torch.bool, device=dev)
    mask[:C, :C] = torch.ones(C, C, dtype=torch.bool, device=dev).tril()
    mask[:C, C:] = False
    logits = model(torch.cat([context, block], 1), positions=torch.cat([cpos, bpos], 1),
                   attn_mask=mask[None, None])
    return logits[:, C - 1 - context_rows:C + B - 1]
