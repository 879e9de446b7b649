"""The web interface: server-rendered French pages styled with the DSFR (Système de Design de l'État).

``install_web(app, settings)`` adds the pages and ``/static/`` to an application; the front-end packages come
from ``assistant/web/build.sh`` (see :class:`WebAssets`).
"""

from __future__ import annotations

from assistant.web._assets import WebAssets
from assistant.web._auth import RequirePage, WebCaller, safe_next_path
from assistant.web._install import install_web
from assistant.web._templates import format_date_fr, format_number_fr
from assistant.web.errors import LoginRequiredError, PageForbiddenError, WebPageError

__all__ = [
    "LoginRequiredError",
    "PageForbiddenError",
    "RequirePage",
    "WebAssets",
    "WebCaller",
    "WebPageError",
    "format_date_fr",
    "format_number_fr",
    "install_web",
    "safe_next_path",
]
