"""Provenance object carried by every generated payload (design §4): our extension to the OpenAI schema.

It is the domain's :class:`assistant.provenance.Provenance`, so that what the API shows, what exports embed and
what manifests sign are one and the same object. The API layer never builds one: the labelling service does, and
``ChatCompletionResponse.from_result`` / ``ChatCompletionChunk.from_llm_chunk`` require it.
"""

from __future__ import annotations

from assistant.provenance import Manifest, Provenance, SourceRef

__all__ = ["Manifest", "Provenance", "SourceRef"]
