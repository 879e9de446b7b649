"""AI-content labelling and signed provenance manifests."""

from assistant.provenance._label import (
    AI_BADGE,
    AI_LABEL,
    HEADER_AI_GENERATED,
    HEADER_AI_MODEL,
    Provenance,
    SourceRef,
    ai_headers,
)
from assistant.provenance._signing import (
    MANIFEST_SCHEMA,
    Manifest,
    ProvenanceSigner,
    Verification,
    content_digest,
    load_or_create_signing_key,
    normalize_content,
)

__all__ = [
    "AI_BADGE",
    "AI_LABEL",
    "HEADER_AI_GENERATED",
    "HEADER_AI_MODEL",
    "MANIFEST_SCHEMA",
    "Manifest",
    "Provenance",
    "ProvenanceSigner",
    "SourceRef",
    "Verification",
    "ai_headers",
    "content_digest",
    "load_or_create_signing_key",
    "normalize_content",
]
