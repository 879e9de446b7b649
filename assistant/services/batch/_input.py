"""Reading a batch input file (JSONL): one ``{"custom_id", "method", "url", "body"}`` object per line.

Every problem is reported with its line number (1-based, as an editor shows it): a line that is not JSON, a
missing or misspelt field, another endpoint than ``/v1/chat/completions``, a streamed request, a ``custom_id``
used twice, a body that is not a valid chat completion request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from assistant.errors import InvalidRequestError
from assistant.protocol.batches import BatchInputLine
from assistant.protocol.chat import ChatCompletionRequest

__all__ = ["CHAT_ENDPOINT", "BatchLineError", "ParsedLine", "parse_input"]

CHAT_ENDPOINT = "/v1/chat/completions"


class BatchLineError(InvalidRequestError):
    """Raised when one line of a batch input file is unusable; ``line`` is its number (1-based)."""

    code = "invalid_batch_line"

    def __init__(self, line: int, message: str, *, code: str | None = None) -> None:
        super().__init__(f"Ligne {line} du fichier : {message}", code=code)
        self.line = line
        self.details = {"line": line}


@dataclass(frozen=True)
class ParsedLine:
    """One request of the batch: its rank (0-based), the caller's id and the chat request itself."""

    index: int
    number: int  # its line in the file, for messages
    custom_id: str
    request: ChatCompletionRequest


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "corps"
    return f"{where} : {error.get('msg', 'valeur invalide')}"


def _parse_line(number: int, text: str) -> tuple[BatchInputLine, ChatCompletionRequest]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BatchLineError(number, f"JSON invalide ({exc.msg}, colonne {exc.colno}).", code="invalid_json") from None
    if not isinstance(raw, dict):
        raise BatchLineError(number, "un objet JSON est attendu.", code="invalid_json")
    try:
        line = BatchInputLine.model_validate(raw)
    except ValidationError as exc:
        raise BatchLineError(
            number, f"champ invalide, {_first_problem(exc)} (attendus : custom_id, method, url, body)."
        ) from None
    if line.url != CHAT_ENDPOINT:
        raise BatchLineError(
            number,
            f"adresse « {line.url[:80]} » non prise en charge : seule {CHAT_ENDPOINT} l'est.",
            code="invalid_url",
        )
    try:
        request = ChatCompletionRequest.model_validate(line.body)
    except ValidationError as exc:
        raise BatchLineError(number, f"requête de complétion invalide, {_first_problem(exc)}.") from None
    if request.stream:
        raise BatchLineError(number, "« stream » n'a pas de sens dans un lot : retirez-le.", code="stream_in_batch")
    return line, request


def parse_input(content: bytes, *, max_lines: int) -> list[ParsedLine]:
    """The requests of a batch file, in order; :class:`BatchLineError` (400) at the first bad line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"Le fichier n'est pas du texte UTF-8 (octet {exc.start}).", code="invalid_encoding"
        ) from None
    parsed: list[ParsedLine] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue  # a trailing newline or a blank separator is not a request
        line, request = _parse_line(number, raw)
        if line.custom_id in seen:
            raise BatchLineError(
                number,
                f"custom_id « {line.custom_id[:80]} » déjà utilisé ligne {seen[line.custom_id]} : chaque requête "
                "doit avoir le sien.",
                code="duplicate_custom_id",
            )
        seen[line.custom_id] = number
        parsed.append(ParsedLine(index=len(parsed), number=number, custom_id=line.custom_id, request=request))
        if len(parsed) > max_lines:
            raise InvalidRequestError(
                f"Trop de requêtes : un lot en compte au plus {max_lines} ; découpez le fichier.",
                code="too_many_requests_in_batch",
            )
    if not parsed:
        raise InvalidRequestError("Le fichier ne contient aucune requête.", code="empty_batch")
    return parsed
