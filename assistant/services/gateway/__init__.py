"""The gateway: every generation goes through here (OpenAI-compatible chat completions, the guard, the AI label
and signed provenance, quotas, usage and energy records), whoever asks (API, chat, document tasks, RAG).
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = [
    "chat_completions",
    "generation",
    "guard",
    "labelling",
    "model_access",
    "priority",
    "quotas",
    "usage",
]
