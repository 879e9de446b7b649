from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.config import load_settings
from assistant.errors import ConfigurationError
from tests.factories import make_settings


def test_defaults_give_an_embedded_sqlite_database_under_the_data_dir(tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'souverain.db'}"
    assert settings.environment == "dev"
    assert settings.run_worker_in_process is True


def test_values_come_from_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOUVERAIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SOUVERAIN_PORT", "9000")
    monkeypatch.setenv("SOUVERAIN_JOB_MODULES", '["a.b"]')
    settings = load_settings(_env_file=None)
    assert (settings.data_dir, settings.port, settings.job_modules) == (tmp_path, 9000, ["a.b"])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db:5432/souverain", "postgresql+asyncpg://u:p@db:5432/souverain"),
        ("postgres://u@db/souverain", "postgresql+asyncpg://u@db/souverain"),
        ("sqlite:////var/lib/s.db", "sqlite+aiosqlite:////var/lib/s.db"),
    ],
)
def test_database_url_drivers_are_normalised_to_the_async_ones(url: str, expected: str) -> None:
    assert make_settings(database_url=url).effective_database_url == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "not a database URL"),
        ("mysql://root@localhost/db", "unsupported driver 'mysql'"),
        ("postgresql+asyncpg://localhost", "names no database"),
    ],
)
def test_bad_database_url_is_a_one_line_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    monkeypatch.setenv("SOUVERAIN_DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None)
    message = caught.value.message
    assert "SOUVERAIN_DATABASE_URL" in message
    assert reason in message
    assert "\n" not in message


def test_bad_typed_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUVERAIN_PORT", "huit-mille")
    with pytest.raises(ConfigurationError, match="SOUVERAIN_PORT"):
        load_settings(_env_file=None)


def test_production_refuses_a_placeholder_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="SOUVERAIN_SECRET_KEY"):
        make_settings(
            environment="production", secret_key="changeme", signing_key="x", database_url="postgresql://u@db/s"
        )


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ConfigurationError, match="SOUVERAIN_DATABASE_URL must point to PostgreSQL"):
        make_settings(environment="production", secret_key="k" * 40, signing_key="x")


def test_production_requires_a_shared_signing_key() -> None:
    with pytest.raises(ConfigurationError, match="SOUVERAIN_SIGNING_KEY"):
        make_settings(environment="production", secret_key="k" * 40, database_url="postgresql://u@db/s")


def test_production_accepts_a_real_configuration() -> None:
    settings = make_settings(
        environment="production",
        secret_key="x7" * 20,
        signing_key="MC4CAQAwBQYDK2VwBCIEIA==",
        database_url="postgresql://u@db/souverain",
    )
    assert settings.effective_secret_key() == "x7" * 20


def test_dev_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path)
    first = settings.effective_secret_key()
    assert len(first) >= 32
    assert make_settings(data_dir=tmp_path).effective_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_grouped_settings_keep_their_flat_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUVERAIN_OIDC_ISSUER", "https://idp.example")
    monkeypatch.setenv("SOUVERAIN_OIDC_CLIENT_ID", "souverain")
    monkeypatch.setenv("SOUVERAIN_OIDC_ROLE_MAPPING", '{"chefs": "referent"}')
    monkeypatch.setenv("SOUVERAIN_RAG_CHUNK_TOKENS", "128")
    monkeypatch.setenv("SOUVERAIN_RAG_EMBEDDING_URL", "")  # compose passes unset values as empty strings
    monkeypatch.setenv("SOUVERAIN_TRANSCRIPTION_MODEL_SHA256", '{"model.bin": "ab"}')
    monkeypatch.setenv("SOUVERAIN_EMBEDDED_MODEL", "smollm2-135m")
    settings = load_settings(_env_file=None)
    assert (settings.oidc.issuer, settings.oidc.client_id) == ("https://idp.example", "souverain")
    assert settings.oidc.role_mapping == {"chefs": "referent"}
    assert (settings.rag.chunk_tokens, settings.rag.embedding_url) == (128, None)
    assert settings.transcription.model_sha256 == {"model.bin": "ab"}
    assert settings.embedded.model == "smollm2-135m"


def test_flat_names_given_in_code_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUVERAIN_RAG_CHUNK_TOKENS", "128")
    monkeypatch.setenv("SOUVERAIN_RAG_CHAT_PASSAGES", "7")
    settings = load_settings(_env_file=None, rag_chunk_tokens=64, rag={"chunk_overlap_tokens": 8})
    assert (settings.rag.chunk_tokens, settings.rag.chunk_overlap_tokens, settings.rag.chat_passages) == (64, 8, 7)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SOUVERAIN_RAG_CHUNK_TOKENS", "10", "SOUVERAIN_RAG_CHUNK_TOKENS"),
        ("SOUVERAIN_RAG_CHUNK_OVERLAP_TOKENS", "300", "SOUVERAIN_RAG_CHUNK_OVERLAP_TOKENS"),
        ("SOUVERAIN_TRANSCRIPTION_DEVICE", "tpu", "SOUVERAIN_TRANSCRIPTION_DEVICE"),
        ("SOUVERAIN_OIDC_CLOCK_SKEW_SECONDS", "une-minute", "SOUVERAIN_OIDC_CLOCK_SKEW_SECONDS"),
    ],
)
def test_a_bad_grouped_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=named) as caught:
        load_settings(_env_file=None)
    assert "SOUVERAIN_RAG: " not in str(caught.value)
