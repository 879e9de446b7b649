"""A signer with a fresh key for each provenance test."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistant.provenance import ProvenanceSigner


@pytest.fixture
def signer() -> ProvenanceSigner:
    return ProvenanceSigner(Ed25519PrivateKey.generate())
