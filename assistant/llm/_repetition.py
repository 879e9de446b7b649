"""Detect a generation that has started to loop, so it can be stopped instead of running to ``max_tokens``.

Small models fall into two kinds of loop: the same sentence again and again (« L'administration est toujé. »
twenty times), and a few words recombined endlessly (« la présente note de la présente note est de la présente
note… »). The first shows as the tail of the text being one block repeated; the second as few distinct word
trigrams among the last words. Both thresholds leave ordinary administrative prose (which repeats « de la » and
« du présent arrêté » freely) well alone: see the tests for both sides.
"""

from __future__ import annotations

import re

__all__ = ["RepetitionDetector"]

_WORD = re.compile(r"\w+|[^\w\s]+", re.UNICODE)


class RepetitionDetector:
    """Fed the generated text piece by piece; :meth:`feed` says when the text is looping.

    Usage::

        detector = RepetitionDetector()
        for piece in tokens:
            if detector.feed(piece):
                break  # stop generating: the answer repeats itself
    """

    def __init__(
        self,
        *,
        min_block_words: int = 3,
        block_repeats: int = 4,
        window_words: int = 72,
        min_distinct_trigrams: float = 0.35,
    ) -> None:
        self._words: list[str] = []
        self._pending = ""
        self._min_block = min_block_words
        self._repeats = block_repeats
        self._window = window_words
        self._min_distinct = min_distinct_trigrams
        self.triggered = False

    def feed(self, piece: str) -> bool:
        """Add generated text; True once the text repeats itself (and from then on)."""
        if self.triggered or not piece:
            return self.triggered
        # Only whole words count: text after the last non-word character waits for the next piece.
        text = self._pending + piece
        cut = len(text)
        while cut > 0 and (text[cut - 1].isalnum() or text[cut - 1] == "_"):
            cut -= 1
        self._pending = text[cut:]
        words = _WORD.findall(text[:cut])
        if words:
            self._words.extend(word.lower() for word in words)
            self.triggered = self._block_loop() or self._trigram_saturation()
        return self.triggered

    def _block_loop(self) -> bool:
        words = self._words
        longest = len(words) // self._repeats
        for size in range(1, longest + 1):
            # Very short blocks (one or two words: « très très très ») need more repeats before we call it a loop.
            needed = self._repeats if size >= self._min_block else self._repeats * 3
            if size * needed > len(words):
                continue
            block = words[-size:]
            if all(words[-size * (k + 1) : len(words) - size * k] == block for k in range(1, needed)):
                return True
        return False

    def _trigram_saturation(self) -> bool:
        tail = self._words[-self._window :]
        if len(tail) < self._window:
            return False
        trigrams = [tuple(tail[i : i + 3]) for i in range(len(tail) - 2)]
        return len(set(trigrams)) / len(trigrams) < self._min_distinct
