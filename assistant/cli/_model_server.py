"""``assistant model-server``: the embedded model alone, for a CPU node that serves it to several API replicas."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli._common import settings_or_exit
from assistant.core.logging import configure_logging
from assistant.llm import LLMError
from assistant.llm.embedded import EmbeddedBackend
from assistant.model_server import serve_model

__all__ = ["model_server"]


def model_server(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8001,
    model: Annotated[str | None, typer.Option(help="Modèle du catalogue (défaut : SOUVERAIN_EMBEDDED_MODEL).")] = None,
) -> None:
    """Servir le modèle embarqué seul (API compatible OpenAI), pour un nœud de calcul sans GPU.

    Déclarez-le ensuite côté API comme un backend « openai » : {"base_url": "http://HOTE:PORT/v1"}.
    """
    settings = settings_or_exit()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    try:
        backend = EmbeddedBackend.from_options(
            {
                "model": model or settings.embedded.model,
                "models_dir": str(settings.ensure_data_dir() / "models"),
                "n_ctx": settings.embedded.context_tokens,
                "n_threads": settings.embedded.threads,
                "n_batch": settings.embedded.batch_tokens,
                "max_waiting": settings.embedded.max_waiting,
            }
        )
        spec = backend.server_spec()
    except LLMError as exc:
        typer.echo(f"Erreur : {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"Modèle {spec.model_id} servi sur http://{host}:{port}/v1 ({spec.n_threads} threads)")
    serve_model(spec, host=host, port=port)
