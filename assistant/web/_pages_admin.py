"""The référent's administration pages: home, accounts, groups, API keys, quotas.

Same services as ``/api/admin`` (which audit every change); each page and each action declares its permission.
Forms post the session's anti-CSRF token; see :mod:`assistant.web._admin_common` for the post/redirect/get flow.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import InvalidRequestError, UserFacingError
from assistant.security import Permission
from assistant.services.gateway.quotas import get_quota
from assistant.services.governance import admin
from assistant.services.identity.api_keys import list_api_keys, revoke_api_key
from assistant.services.identity.users import create_local_user, get_user
from assistant.store import utcnow
from assistant.store.models import ApiKey, Role, User
from assistant.web._admin_common import done, error_status, render_admin
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["ROLE_LABELS", "admin_router"]

ROLE_LABELS = {Role.AGENT: "Agent", Role.REFERENT: "Référent IA", Role.AUDITEUR: "Auditeur"}

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
Governance = Annotated[WebCaller, Security(RequirePage(Permission.READ_GOVERNANCE))]
UserManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_USERS))]
GroupManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_GROUPS))]
KeyManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_KEYS))]
QuotaManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_QUOTAS))]

Text = Annotated[str, Form(max_length=1000)]


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidRequestError("Choisissez un rôle : agent, référent IA ou auditeur.") from None


def _matches(user: User, query: str) -> bool:
    needle = query.casefold()
    return any(needle in (field or "").casefold() for field in (user.username, user.display_name, user.email))


def _optional_limit(value: str, label: str) -> int | None:
    """A quota field: blank restores the default; otherwise a whole number from 0 to 10⁹."""
    cleaned = value.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        return None
    if not cleaned.isdigit() or int(cleaned) > 1_000_000_000:
        raise InvalidRequestError(
            f"« {label} » : saisissez un nombre entier positif, ou laissez vide (valeur par défaut)."
        )
    return int(cleaned)


def _key_state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    expires = key.expires_at
    if expires is not None and expires.replace(tzinfo=expires.tzinfo or UTC) <= now:
        return "expired"  # SQLite hands back naive UTC datetimes, hence the replace()
    return "active"


def admin_router(renderer: PageRenderer) -> APIRouter:
    """The administration pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/admin")
    async def home(request: Request, caller: Governance) -> Response:
        return render_admin(renderer, request, "admin/home.html", title="Administration", caller=caller, section=None)

    # ---- Accounts ------------------------------------------------------------------------------------------

    async def accounts_page(
        request: Request, runtime: RuntimeDep, caller: WebCaller, *, error: str | None = None, status_code: int = 200
    ) -> Response:
        query = request.query_params.get("recherche", "").strip()[:150]
        users = await admin.list_users(runtime)
        shown = [user for user in users if _matches(user, query)] if query else users
        return render_admin(
            renderer,
            request,
            "admin/accounts.html",
            title="Comptes",
            caller=caller,
            section="comptes",
            error=error,
            status_code=status_code,
            users=shown,
            total=len(users),
            query=query,
            roles=ROLE_LABELS,
            form=getattr(request.state, "admin_form", {}),
        )

    @router.get("/admin/comptes")
    async def accounts(request: Request, runtime: RuntimeDep, caller: UserManager) -> Response:
        return await accounts_page(request, runtime, caller)

    @router.post("/admin/comptes")
    async def create_account(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: UserManager,
        identifiant: Annotated[str, Form(max_length=150)] = "",
        role: Annotated[str, Form(max_length=20)] = "",
        mot_de_passe: Annotated[str, Form(max_length=1024)] = "",
        nom: Annotated[str, Form(max_length=200)] = "",
        courriel: Annotated[str, Form(max_length=320)] = "",
    ) -> Response:
        try:
            if courriel.strip() and "@" not in courriel:
                raise InvalidRequestError("Adresse électronique invalide.")
            await create_local_user(
                runtime,
                username=identifiant.strip(),
                role=_role(role),
                password=mot_de_passe or None,
                display_name=nom.strip(),
                email=courriel.strip() or None,
                actor=caller.principal,
                client=client,
            )
        except UserFacingError as exc:
            # Keep what was typed (never the password) so the référent only fixes the faulty field.
            request.state.admin_form = {"identifiant": identifiant, "role": role, "nom": nom, "courriel": courriel}
            return await accounts_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/comptes", "compte-cree")

    @router.post("/admin/comptes/{user_id}/role")
    async def change_role(
        request: Request,
        user_id: uuid.UUID,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: UserManager,
        role: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        try:
            await admin.update_user(runtime, user_id=user_id, actor=caller.principal, role=_role(role), client=client)
        except UserFacingError as exc:
            return await accounts_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/comptes", "role-change")

    @router.post("/admin/comptes/{user_id}/etat")
    async def change_state(
        request: Request,
        user_id: uuid.UUID,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: UserManager,
        actif: Annotated[str, Form(max_length=3)] = "",
    ) -> Response:
        try:
            if actif not in ("oui", "non"):
                raise InvalidRequestError("Indiquez s'il faut activer ou désactiver le compte.")
            active = actif == "oui"
            await admin.update_user(runtime, user_id=user_id, actor=caller.principal, is_active=active, client=client)
        except UserFacingError as exc:
            return await accounts_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/comptes", "compte-reactive" if active else "compte-desactive")

    # ---- Groups --------------------------------------------------------------------------------------------

    async def groups_page(
        request: Request, runtime: RuntimeDep, caller: WebCaller, *, error: str | None = None, status_code: int = 200
    ) -> Response:
        return render_admin(
            renderer,
            request,
            "admin/groups.html",
            title="Groupes",
            caller=caller,
            section="groupes",
            error=error,
            status_code=status_code,
            groups=await admin.list_groups(runtime),
        )

    @router.get("/admin/groupes")
    async def groups(request: Request, runtime: RuntimeDep, caller: GroupManager) -> Response:
        return await groups_page(request, runtime, caller)

    @router.post("/admin/groupes")
    async def create_group(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: GroupManager,
        nom: Annotated[str, Form(max_length=150)] = "",
        description: Text = "",
    ) -> Response:
        try:
            group = await admin.create_group(
                runtime, name=nom, description=description.strip(), actor=caller.principal, client=client
            )
        except UserFacingError as exc:
            return await groups_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done(f"/admin/groupes/{group.id}", "groupe-cree")

    async def group_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        group_id: uuid.UUID,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        group, members = await admin.group_members(runtime, group_id=group_id)
        member_ids = {member.id for member in members}
        candidates = [user for user in await admin.list_users(runtime) if user.id not in member_ids]
        return render_admin(
            renderer,
            request,
            "admin/group.html",
            title=f"Groupe {group.name}",
            caller=caller,
            section="groupes",
            error=error,
            status_code=status_code,
            group=group,
            members=members,
            candidates=candidates,
            roles=ROLE_LABELS,
        )

    @router.get("/admin/groupes/{group_id}")
    async def group_detail(
        request: Request, group_id: uuid.UUID, runtime: RuntimeDep, caller: GroupManager
    ) -> Response:
        try:
            return await group_page(request, runtime, caller, group_id)
        except UserFacingError as exc:
            return await groups_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))

    @router.post("/admin/groupes/{group_id}/membres")
    async def add_member(
        request: Request,
        group_id: uuid.UUID,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: GroupManager,
        utilisateur: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        try:
            try:
                user_id = uuid.UUID(utilisateur)
            except ValueError:
                raise InvalidRequestError("Choisissez le compte à ajouter au groupe.") from None
            await admin.add_group_member(
                runtime, group_id=group_id, user_id=user_id, actor=caller.principal, client=client
            )
        except UserFacingError as exc:
            return await groups_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done(f"/admin/groupes/{group_id}", "membre-ajoute")

    @router.post("/admin/groupes/{group_id}/membres/{user_id}/retrait")
    async def remove_member(
        request: Request,
        group_id: uuid.UUID,
        user_id: uuid.UUID,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: GroupManager,
    ) -> Response:
        try:
            await admin.remove_group_member(
                runtime, group_id=group_id, user_id=user_id, actor=caller.principal, client=client
            )
        except UserFacingError as exc:
            return await groups_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done(f"/admin/groupes/{group_id}", "membre-retire")

    # ---- API keys ------------------------------------------------------------------------------------------

    async def keys_page(
        request: Request, runtime: RuntimeDep, caller: WebCaller, *, error: str | None = None, status_code: int = 200
    ) -> Response:
        users = await admin.list_users(runtime)
        owner: uuid.UUID | None = None
        try:
            owner = uuid.UUID(request.query_params["compte"]) if request.query_params.get("compte") else None
        except ValueError:
            error, status_code = "Compte inconnu : toutes les clés sont affichées.", 400
        keys = await list_api_keys(runtime, owner_id=owner)
        return render_admin(
            renderer,
            request,
            "admin/keys.html",
            title="Clés d'API",
            caller=caller,
            section="cles",
            error=error,
            status_code=status_code,
            keys=keys,
            states={key.id: _key_state(key, utcnow()) for key in keys},
            users=users,
            usernames={user.id: user.username for user in users},
            owner=owner,
        )

    @router.get("/admin/cles")
    async def keys(request: Request, runtime: RuntimeDep, caller: KeyManager) -> Response:
        return await keys_page(request, runtime, caller)

    @router.post("/admin/cles/{key_id}/revocation")
    async def revoke_key(
        request: Request, key_id: uuid.UUID, runtime: RuntimeDep, client: ClientDep, caller: KeyManager
    ) -> Response:
        try:
            key = await revoke_api_key(runtime, key_id=key_id, actor=caller.principal, own_only=False, client=client)
        except UserFacingError as exc:
            return await keys_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        back = f"/admin/cles?compte={key.user_id}" if request.query_params.get("compte") else "/admin/cles"
        return done(back, "cle-revoquee")

    # ---- Quotas --------------------------------------------------------------------------------------------

    async def quotas_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        user_id: uuid.UUID | None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        users = await admin.list_users(runtime)
        account = quota = None
        if user_id is not None:
            try:
                account = await get_user(runtime, user_id=user_id)
                quota = await get_quota(runtime, user_id, fresh=True)
            except UserFacingError as exc:
                error, status_code = exc.message, error_status(exc)
        settings = runtime.settings
        defaults = {
            "requests_per_minute": settings.default_requests_per_minute,
            "tokens_per_day": settings.default_tokens_per_day,
            "concurrent_jobs": settings.default_concurrent_jobs,
        }
        return render_admin(
            renderer,
            request,
            "admin/quotas.html",
            title="Quotas",
            caller=caller,
            section="quotas",
            error=error,
            status_code=status_code,
            users=users,
            account=account,
            quota=quota,
            defaults=defaults,
        )

    @router.get("/admin/quotas")
    async def quotas(request: Request, runtime: RuntimeDep, caller: QuotaManager) -> Response:
        selected = request.query_params.get("compte", "")
        try:
            user_id = uuid.UUID(selected) if selected else None
        except ValueError:
            return await quotas_page(
                request,
                runtime,
                caller,
                user_id=None,
                error="Compte inconnu : choisissez-le dans la liste.",
                status_code=404,
            )
        return await quotas_page(request, runtime, caller, user_id=user_id)

    @router.post("/admin/quotas/{user_id}")
    async def set_quotas(
        request: Request,
        user_id: uuid.UUID,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: QuotaManager,
        requetes_par_minute: Annotated[str, Form(max_length=20)] = "",
        jetons_par_jour: Annotated[str, Form(max_length=20)] = "",
        taches_simultanees: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        try:
            await admin.set_quota(
                runtime,
                user_id=user_id,
                requests_per_minute=_optional_limit(requetes_par_minute, "Requêtes par minute"),
                tokens_per_day=_optional_limit(jetons_par_jour, "Jetons par jour"),
                concurrent_jobs=_optional_limit(taches_simultanees, "Tâches simultanées"),
                actor=caller.principal,
                client=client,
            )
        except UserFacingError as exc:
            return await quotas_page(
                request, runtime, caller, user_id=user_id, error=exc.message, status_code=error_status(exc)
            )
        return done(f"/admin/quotas?compte={user_id}", "quotas-enregistres")

    return router
