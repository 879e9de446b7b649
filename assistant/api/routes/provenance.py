"""Checking generated content: verify a text or an export against its signed manifest; the public key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from assistant.api.deps import PUBLIC, RequirePermission, RuntimeDep
from assistant.api.routes._streaming import read_json_or_form
from assistant.errors import InvalidRequestError
from assistant.provenance import Manifest
from assistant.security import Permission, Principal
from assistant.services.gateway.verification import VerificationReport, verify_file, verify_text

__all__ = ["router"]

router = APIRouter(prefix="/api/provenance", tags=["provenance"])

AnyUser = Annotated[Principal, Security(RequirePermission(Permission.PROFILE))]
_MAX_FILE_BYTES = 50_000_000


class VerifyRequest(BaseModel):
    content: str | None = Field(default=None, description="The text; without it only the signature is checked.")
    manifest: dict[str, Any] | None = Field(default=None, description="The signed manifest returned with the text.")


class VerificationItem(BaseModel):
    valid: bool
    signature_valid: bool
    content_matches: bool | None
    reason: str
    manifest: Manifest | None


class VerificationOut(BaseModel):
    valid: bool = Field(description="True when every generated passage is unmodified and signed by this service.")
    file_format: str
    items: list[VerificationItem]

    @classmethod
    def of(cls, report: VerificationReport) -> VerificationOut:
        items = [
            VerificationItem(
                valid=item.valid,
                signature_valid=item.signature_valid,
                content_matches=item.content_matches,
                reason=item.reason,
                manifest=item.manifest,
            )
            for item in report.results
        ]
        return cls(valid=report.valid, file_format=report.file_format, items=items)


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": VerifyRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


@router.post(
    "/verify",
    response_model=VerificationOut,
    summary="Vérifier un texte et son manifeste, ou un export (Markdown, DOCX, ODT)",
    openapi_extra=_BODY,
)
async def verify(request: Request, principal: AnyUser, runtime: RuntimeDep) -> VerificationOut:
    body, upload = await read_json_or_form(request, VerifyRequest, max_file_bytes=_MAX_FILE_BYTES)
    if upload is not None:
        return VerificationOut.of(verify_file(runtime.signer, upload.data, filename=upload.filename))
    if body.manifest is None:
        raise InvalidRequestError('Envoyez un fichier, ou {"content": "…", "manifest": {…}}.')
    return VerificationOut.of(verify_text(runtime.signer, content=body.content, manifest=body.manifest))


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    summary="Clé publique Ed25519 qui signe les manifestes (PEM)",
    dependencies=[PUBLIC],
    # Declared so that the schema names the media type actually served (PlainTextResponse would say text/plain).
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}}},
)
async def public_key(runtime: RuntimeDep) -> PlainTextResponse:
    signer = runtime.signer
    return PlainTextResponse(
        signer.public_key_pem(), media_type="application/x-pem-file", headers={"X-Key-Id": signer.key_id}
    )
