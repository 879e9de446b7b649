"""Chart values the deploy tests render with: the production file, fresh secrets, every optional part on."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from tests.deploy.helpers import CHART_DIR

PRODUCTION_VALUES = CHART_DIR / "values-production.yaml"


def generated_secret_values() -> dict[str, str]:
    """Fresh random secrets, as an operator would generate them (never a literal in the repository)."""
    return {
        "databaseUrl": f"postgresql+asyncpg://souverain:{secrets.token_hex(16)}@10.20.0.15:5432/souverain",
        "secretKey": secrets.token_urlsafe(48),
        "signingKey": base64.b64encode(secrets.token_bytes(32)).decode(),
        "redisUrl": f"redis://:{secrets.token_hex(16)}@10.20.0.16:6379/0",
        "oidcClientSecret": secrets.token_urlsafe(32),
    }


def full_values() -> dict[str, Any]:
    """Every optional part switched on, with a chart-managed Secret."""
    return {
        "secrets": {"existingSecret": "", "values": generated_secret_values()},
        "transcription": {"enabled": True},
        "ingress": {"enabled": True, "host": "assistant.test.example.gouv.fr"},
        "serviceMonitor": {"enabled": True},
        "persistence": {"existingClaim": "souverain-data"},
        "config": {
            "oidc": {
                "issuer": "https://sso.test.example.gouv.fr/realms/agents",
                "audience": "souverain",
                "clientId": "souverain",
            },
            "llmBackends": [
                {
                    "id": "albert-large",
                    "kind": "openai",
                    "base_url": "https://llm.interne.example/v1",
                    "model": "albert-large",
                    "sovereign": True,
                }
            ],
            "extraEnv": {"QUOTA_TOKENS_PER_DAY": 200000},
        },
        "networkPolicy": {
            "denyAllInNamespace": False,
            "egress": {
                "oidc": {"port": 443, "peers": [{"ipBlock": {"cidr": "10.20.1.0/28"}}]},
                "extra": [
                    {
                        "to": [{"ipBlock": {"cidr": "10.30.0.8/32"}}],
                        "ports": [{"port": 443, "protocol": "TCP"}],
                    }
                ],
            },
        },
    }
