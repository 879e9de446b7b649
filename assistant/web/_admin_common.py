"""What every admin page shares: its sections (each behind a permission), notices after an action, error pages.

Actions are plain HTML forms posted with the session's anti-CSRF token (``RequirePage`` checks it), then a 303
redirection to the page with ``?fait=<code>`` (post/redirect/get): reloading never repeats the action, and the
page announces the outcome in a live region. A refused action re-renders the page with the service's French
message and the matching status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from assistant.errors import ConflictError, NotFoundError, SouverainError
from assistant.llm.errors import ModelWithdrawnError, UnknownModelError
from assistant.security import Permission
from assistant.web._auth import WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["SECTIONS", "AdminSection", "done", "error_status", "render_admin"]


@dataclass(frozen=True)
class AdminSection:
    """One page of the administration, listed in its side menu to users holding ``permission``."""

    key: str
    label: str
    href: str
    permission: Permission
    summary: str


SECTIONS = (
    AdminSection(
        "comptes", "Comptes", "/admin/comptes", Permission.MANAGE_USERS, "Créer, rechercher, changer le rôle."
    ),
    AdminSection(
        "groupes", "Groupes", "/admin/groupes", Permission.MANAGE_GROUPS, "Créer un groupe, gérer ses membres."
    ),
    AdminSection("cles", "Clés d'API", "/admin/cles", Permission.MANAGE_KEYS, "Voir et révoquer les clés d'API."),
    AdminSection("quotas", "Quotas", "/admin/quotas", Permission.MANAGE_QUOTAS, "Limites d'usage par compte."),
    AdminSection(
        "modeles", "Modèles", "/admin/modeles", Permission.READ_GOVERNANCE, "Signaux de qualité, retrait d'un modèle."
    ),
    AdminSection(
        "signalements", "Signalements", "/admin/signalements", Permission.READ_GOVERNANCE, "Traiter les signalements."
    ),
    AdminSection(
        "indicateurs", "Indicateurs", "/admin/indicateurs", Permission.READ_GOVERNANCE, "Usage, énergie, émissions."
    ),
    AdminSection(
        "registre", "Registre IA", "/admin/registre", Permission.READ_GOVERNANCE, "Registre des systèmes d'IA."
    ),
    AdminSection(
        "conformite",
        "Conformité",
        "/admin/conformite",
        Permission.READ_GOVERNANCE,
        "Rapport de conformité aux chartes.",
    ),
    AdminSection(
        "charte", "Charte", "/admin/charte", Permission.MANAGE_CHARTER, "Publier la charte, suivre son acceptation."
    ),
    AdminSection(
        "garde-fou",
        "Garde-fou",
        "/admin/garde-fou",
        Permission.MANAGE_CHARTER,
        "Règles contre les usages interdits par les chartes.",
    ),
)

# Outcome codes carried by the redirection after an action, and what the page then says.
_NOTICES = {
    "compte-cree": "Le compte a été créé.",
    "role-change": "Le rôle a été modifié ; les sessions du compte ont été fermées.",
    "compte-desactive": "Le compte a été désactivé ; ses sessions ont été fermées.",
    "compte-reactive": "Le compte a été réactivé.",
    "groupe-cree": "Le groupe a été créé.",
    "membre-ajoute": "Le membre a été ajouté au groupe.",
    "membre-retire": "Le membre a été retiré du groupe.",
    "cle-revoquee": "La clé a été révoquée : elle ne permet plus aucun accès.",
    "quotas-enregistres": "Les quotas ont été enregistrés.",
    "modele-retire": "Le modèle a été retiré du service ; le motif est affiché à ses utilisateurs.",
    "modele-retabli": "Le modèle a été remis en service.",
    "acces-modele-enregistre": "L'accès au modèle a été enregistré ; il s'applique aux nouvelles requêtes.",
    "signalement-traite": "Le signalement a été mis à jour.",
    "entree-revue": "L'entrée du registre est marquée « revue effectuée ».",
}


def done(path: str, code: str) -> RedirectResponse:
    """Back to ``path`` after a successful action, announcing ``code``'s notice."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}fait={code}", status_code=303)


def error_status(exc: SouverainError) -> int:
    """The status of a page re-rendered because the service refused the action."""
    if isinstance(exc, NotFoundError | UnknownModelError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, ModelWithdrawnError):
        return 410
    return 400


def render_admin(
    renderer: PageRenderer,
    request: Request,
    template: str,
    *,
    title: str,
    caller: WebCaller,
    section: str | None,
    error: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """An admin page: the side menu of the sections the caller may open, the notice or the error of an action."""
    sections = [item for item in SECTIONS if caller.principal.has(item.permission)]
    return renderer.render(
        request,
        template,
        title=title,
        caller=caller,
        active="admin",
        sections=sections,
        section=section,
        notice=_NOTICES.get(request.query_params.get("fait", "")),
        error=error,
        can=caller.principal.has,
        Permission=Permission,
        status_code=status_code if error is None or status_code != 200 else 400,
        **context,
    )
