"""Static files of the web interface: our own CSS/JS, and the front-end packages installed by ``build.sh``.

The packages (DSFR, marked, DOMPurify) live outside the source tree, in ``settings.web_assets_dir``; when they are
missing the pages still work, unstyled and with answers shown as plain text, and a warning says how to install
them. Everything is served by one public route so that it declares its policy like every other route.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from assistant.api.deps import PUBLIC

__all__ = ["WebAssets", "assets_router"]

logger = logging.getLogger(__name__)

OWN_STATIC = Path(__file__).parent / "static"
_BUILD_HINT = "lancez « assistant/web/build.sh » (npm) pour installer le DSFR"


@dataclass(frozen=True)
class WebAssets:
    """Where each URL prefix under ``/static/`` is read from."""

    root: Path

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def directories(self) -> dict[str, Path]:
        """URL prefix -> directory; the longest matching prefix wins, ``""`` is our own files."""
        return {
            "dsfr": self.node_modules / "@gouvfr" / "dsfr" / "dist",
            "vendor/marked": self.node_modules / "marked" / "lib",
            "vendor/dompurify": self.node_modules / "dompurify" / "dist",
            "": OWN_STATIC,
        }

    @property
    def dsfr_available(self) -> bool:
        return (self.directories["dsfr"] / "dsfr.min.css").is_file()

    @property
    def markdown_available(self) -> bool:
        dirs = self.directories
        return (dirs["vendor/marked"] / "marked.umd.js").is_file() and (
            dirs["vendor/dompurify"] / "purify.min.js"
        ).is_file()

    def warn_if_missing(self) -> None:
        """Say once, at start-up, that the interface will be unstyled and how to fix it."""
        if not self.dsfr_available:
            logger.warning("DSFR introuvable dans %s : pages sans style ; %s", self.root, _BUILD_HINT)
        if not self.markdown_available:
            logger.warning("marked/DOMPurify absents de %s : réponses en texte brut ; %s", self.root, _BUILD_HINT)


def _normalise(path: str) -> str:
    # As StaticFiles does for its own requests (pure string work): "a/../b" works, "../x" stays outside and is
    # refused by StaticFiles, which serves nothing resolving outside its directory.
    return os.path.normpath(os.path.join(*path.split("/"))) if path else "."


def assets_router(assets: WebAssets) -> APIRouter:
    """``GET /static/{path}``: public, read-only, never outside the configured directories."""
    router = APIRouter(include_in_schema=False)
    # Longest prefix first, so that "vendor/marked/x" never falls through to our own directory.
    served = sorted(
        ((prefix, StaticFiles(directory=path, check_dir=False)) for prefix, path in assets.directories.items()),
        key=lambda item: -len(item[0]),
    )

    @router.get("/static/{path:path}", dependencies=[PUBLIC])
    async def static(path: str, request: Request) -> Response:
        for prefix, files in served:
            if not prefix or path.startswith(prefix + "/"):
                inner = path[len(prefix) + 1 :] if prefix else path
                response = await files.get_response(_normalise(inner), request.scope)
                response.headers.setdefault("Cache-Control", "public, max-age=3600")
                response.headers.setdefault("X-Content-Type-Options", "nosniff")
                return response
        raise AssertionError("the empty prefix matches every path")  # pragma: no cover

    return router
