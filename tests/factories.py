"""Plain factory functions for tests."""

from __future__ import annotations

from typing import Any

from assistant.core.config import Settings, load_settings
from assistant.llm import BackendConfig
from assistant.llm.embedded import default_embedded_config


def make_settings(**overrides: Any) -> Settings:
    """Settings from explicit values only: no .env file is read."""
    overrides.setdefault("log_format", "console")
    # The suite's embedded model proves the flow quickly; the default model has its own end-to-end tests.
    overrides.setdefault("embedded_model", "smollm2-135m")
    overrides.setdefault("embedded_preload", False)
    overrides.setdefault("embedded_threads", 1)
    # The model's answerability check is one more model call per grounded question; its own tests turn it on.
    overrides.setdefault("rag_answerability_check", False)
    return load_settings(_env_file=None, **overrides)


def embedded_test_config(**options: Any) -> BackendConfig:
    """The embedded backend as the suite runs it: SmolLM2 (fast, garbled French), one thread, started on demand."""
    options.setdefault("preload", False)
    options.setdefault("n_threads", 1)
    return default_embedded_config(model="smollm2-135m", **options)
