"""The distribution of the one token that follows a prompt, from llama.cpp's last logits.

llama-cpp-python only returns log-probabilities when the model is loaded with ``logits_all`` (a float row per
prompt token: 2.4 GB for a 4,096-token window and Qwen's 151,936-token vocabulary). A one-token answer needs only
the last row, which llama.cpp computes anyway: reading it gives ``logprobs`` for that token at no memory cost.
That is what a calibrated OUI/NON check needs (P(OUI) against a threshold instead of a greedy word).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["NextToken", "next_token"]


@dataclass(frozen=True, slots=True)
class NextToken:
    """The token chosen after the prompt, its log-probability and the ``top`` alternatives (OpenAI's shape)."""

    text: str
    logprobs: dict[str, Any]
    prompt_tokens: int


def next_token(
    llama: Llama, prompt_tokens: list[int], *, top: int, temperature: float | None, seed: int | None
) -> NextToken:
    """Evaluate ``prompt_tokens`` (reusing the longest prefix already in the KV cache) and read the next token.

    Greedy when ``temperature`` is 0 or unset, else sampled from the tempered distribution with ``seed``.
    """
    cached = llama.input_ids[: llama.n_tokens].tolist()
    prefix = 0
    for old, new in zip(cached, prompt_tokens, strict=False):
        if old != new:
            break
        prefix += 1
    # At least one token is evaluated so the logits read are this prompt's.
    llama.n_tokens = min(prefix, len(prompt_tokens) - 1)
    llama.eval(prompt_tokens[llama.n_tokens :])
    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).astype(np.float64)
    logprobs = logits - logits.max()
    logprobs -= np.log(np.exp(logprobs).sum())
    if not temperature:
        chosen = int(np.argmax(logprobs))
    else:
        tempered = np.exp((logprobs - logprobs.max()) / temperature)
        chosen = int(np.random.default_rng(seed).choice(len(tempered), p=tempered / tempered.sum()))
    best = np.argsort(logprobs)[::-1][: max(top, 0)]

    def entry(token: int) -> dict[str, Any]:
        raw = llama.detokenize([token], special=False)
        return {"token": raw.decode(errors="replace"), "logprob": float(logprobs[token]), "bytes": list(raw)}

    content = {**entry(chosen), "top_logprobs": [entry(int(token)) for token in best]}
    return NextToken(content["token"], {"content": [content]}, len(prompt_tokens))
