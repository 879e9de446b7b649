"""The one place where generated content gets its label, provenance and signed manifests.

Every path that returns generated text (chat completions, conversations, RAG answers, minutes, exports) builds
its provenance here, so that no route can forget it and the label reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from assistant.llm import RegisteredModel
from assistant.provenance import Manifest, Provenance, ProvenanceSigner, SourceRef
from assistant.speech import SpeechModel
from assistant.store import utcnow

if TYPE_CHECKING:
    from assistant.services.gateway.fallback import Fallback

__all__ = ["provenance_for", "sign_texts", "speech_provenance"]


def provenance_for(
    model: RegisteredModel,
    *,
    request_id: str | None,
    sources: Iterable[SourceRef] = (),
    fallback: Fallback | None = None,
) -> Provenance:
    """Provenance of content generated now by ``model``; ``fallback`` when it answered for another model."""
    card = model.card
    version = card.weights_sha256 or card.version or model.upstream_name
    backend = f"{model.backend_name} ({model.backend.kind})"
    if fallback is not None:
        # In the signed text itself, so that a manifest says the answer came from a fallback, and why.
        backend += f" — repli pour « {fallback.requested.id} » ({fallback.reason_label})"
    return Provenance(
        model_id=model.id,
        model_version=version,
        backend=backend,
        sovereign=model.sovereign,
        sources=tuple(sources),
        created_at=utcnow(),
        request_id=request_id,
    )


def speech_provenance(model: SpeechModel, *, request_id: str | None) -> Provenance:
    """Provenance of a transcript produced now by the speech-to-text ``model`` (Whisper)."""
    return Provenance(
        model_id=model.model_id,
        model_version=model.version,
        backend=model.backend,
        sovereign=model.sovereign,
        created_at=utcnow(),
        request_id=request_id,
    )


def sign_texts(signer: ProvenanceSigner, provenance: Provenance, texts: Iterable[str]) -> list[Manifest]:
    """One signed manifest per generated text (one per choice of a completion)."""
    return [signer.sign(text, provenance) for text in texts]
