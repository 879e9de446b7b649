"""EML (standard ``email`` package) and Outlook MSG (``rag._msg``) loaders, attachments included.

A mail becomes one section with its headers (De, À, Cc, Date, Objet) and its body (text/plain preferred,
else the HTML converted by the HTML loader), then the sections of each attachment, loaded through the
dispatcher (``load_attachment``) and headed « Pièce jointe : nom › … ». An attachment that cannot be read
(unsupported format, damaged, too large, nested too deep) leaves a French note section instead: it never
fails the whole mail. All attachments of one mail share the mail's limits: their decoded sizes add up to
at most ``max_bytes`` and their texts, with the body, to at most ``max_chars``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rag._limits import Limits
from rag._msg import MapiMessage, read_msg
from rag._types import Section
from rag.errors import CorruptDocumentError, DocumentTooLargeError, RagError

__all__ = ["MSG_MIME", "AttachmentLoader", "load_eml", "load_msg"]

logger = logging.getLogger(__name__)

MSG_MIME = "application/vnd.ms-outlook"

AttachmentLoader = Callable[[bytes, str, str | None, Limits], list[Section]]
"""Loads one attachment ``(data, filename, declared MIME type, limits left)`` into sections, or raises
:class:`rag.errors.DocumentError`; the dispatcher provides it and bounds the nesting depth."""

# Signatures and keys carry no text worth indexing: dropped silently rather than noted as unreadable.
_SIGNATURE_TYPES = frozenset(
    {
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
        "application/pgp-keys",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class _Attachment:
    """One attachment as found in the mail; ``data`` is ``None`` when its content could not be extracted."""

    name: str
    data: bytes | None
    mime: str | None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _date_text(value: dt.datetime | None) -> str:
    return value.strftime("%d/%m/%Y %H:%M") if value is not None else ""


def _attachment_name(raw: str | None, fallback: str) -> str:
    # A name may carry a client's path (« C:\Users\…\note.docx »): keep the file name only.
    name = _one_line(_CONTROL.sub("", raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    return name or fallback


def _html_text(html: str | bytes, *, filename: str, limits: Limits) -> str:
    """Text of an HTML body through the HTML loader, its headings kept as lines of their own."""
    from rag._markup import load_html

    _, sections = load_html(html, filename=filename, limits=limits)
    parts: list[str] = []
    previous: str | None = None
    for section in sections:
        if section.heading and section.heading != previous:
            parts.append(section.heading.rsplit(" › ", 1)[-1])
        previous = section.heading
        parts.append(section.text)
    return "\n\n".join(parts)


def _mail_sections(
    *,
    headers: list[tuple[str, str]],
    body: str,
    attachments: Iterator[_Attachment],
    limits: Limits,
    load_attachment: AttachmentLoader,
) -> list[Section]:
    lines = [f"{label} : {value}" for label, value in headers if value]
    text = "\n".join(lines) + ("\n\n" + body.strip() if body.strip() else "")
    sections = [Section(text=text.strip())]
    bytes_left = limits.max_bytes
    chars_left = limits.max_chars - len(text)
    for attachment in attachments:
        heading = f"Pièce jointe : {attachment.name}"
        try:
            if attachment.data is None:
                raise CorruptDocumentError(f"« {attachment.name} » n'a pas de contenu lisible.")
            if len(attachment.data) > bytes_left or chars_left <= 0:
                raise DocumentTooLargeError(
                    f"« {attachment.name} » dépasse la taille totale autorisée pour les pièces jointes."
                )
            part_limits = dataclasses.replace(limits, max_bytes=bytes_left, max_chars=chars_left)
            loaded = load_attachment(attachment.data, attachment.name, attachment.mime, part_limits)
        except RagError as exc:
            logger.debug("attachment %s skipped: %s", attachment.name, type(exc).__name__)
            sections.append(Section(text=f"Pièce jointe « {attachment.name} » non lue : {exc}", heading=heading))
            continue
        except Exception:
            # A parser bug on one attachment must not lose the mail and its other attachments.
            logger.warning("attachment %s could not be parsed", attachment.name, exc_info=True)
            sections.append(
                Section(text=f"Pièce jointe « {attachment.name} » non lue : fichier illisible.", heading=heading)
            )
            continue
        bytes_left -= len(attachment.data)
        chars_left -= sum(len(section.text) for section in loaded)
        sections.extend(
            dataclasses.replace(section, heading=f"{heading} › {section.heading}" if section.heading else heading)
            for section in loaded
        )
    return sections


# --- EML -------------------------------------------------------------------------------------------------


def _header(message: Any, name: str) -> str:
    """One header decoded (RFC 2047), or its raw text when the parser chokes on a malformed value."""
    try:
        value = message[name]
    except (ValueError, IndexError, TypeError, AttributeError):
        raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), "")
        return _one_line(raw)
    if value is None:
        return ""
    if name == "Date" and getattr(value, "datetime", None) is not None:
        return _date_text(value.datetime)
    return _one_line(value)


def _part_text(part: Any, *, filename: str) -> str:
    from rag._markup import decode_text

    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset or broken transfer encoding
        content = decode_text(part.get_payload(decode=True) or b"", filename=filename)
    return str(content).replace("\r\n", "\n")


def _eml_body(message: Any, *, filename: str, limits: Limits) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _part_text(body, filename=filename)
    if body.get_content_subtype() == "html":
        return _html_text(text, filename=filename, limits=limits)
    return _CONTROL.sub("", text)


def _eml_attachment(part: Any, number: int) -> _Attachment:
    mime = part.get_content_type()
    name = _attachment_name(part.get_filename(), f"pièce jointe {number}")
    try:
        if mime == "message/rfc822":
            inner = part.get_payload(0)
            fallback = f"{_one_line(inner.get('Subject', '')) or f'message {number}'}.eml"
            return _Attachment(_attachment_name(part.get_filename(), fallback), bytes(inner), mime)
        return _Attachment(name, part.get_payload(decode=True), mime)
    except Exception:
        logger.warning("attachment %s could not be extracted", name, exc_info=True)
        return _Attachment(name, None, mime)


def _eml_attachments(message: Any) -> Iterator[_Attachment]:
    parts = list(message.iter_attachments()) if message.is_multipart() else []
    if not message.is_multipart() and message.get_content_maintype() not in ("text", "multipart"):
        parts = [message]  # a mail that is nothing but one file
    for number, part in enumerate(parts, start=1):
        if part.get_content_type() not in _SIGNATURE_TYPES:
            yield _eml_attachment(part, number)


def load_eml(
    data: bytes, *, filename: str, limits: Limits, load_attachment: AttachmentLoader
) -> tuple[str | None, list[Section]]:
    """A mail in RFC 822 format: headers, body, then its attachments; the title is the subject."""
    import email
    from email import policy

    message = email.message_from_bytes(data, policy=policy.default)
    if not any(name in message for name in ("From", "To", "Subject", "Date", "Message-ID")):
        raise CorruptDocumentError(f"« {filename} » n'est pas un courriel valide (aucun en-tête).", filename=filename)
    subject = _header(message, "Subject")
    headers = [
        ("De", _header(message, "From")),
        ("À", _header(message, "To")),
        ("Cc", _header(message, "Cc")),
        ("Date", _header(message, "Date")),
        ("Objet", subject),
    ]
    sections = _mail_sections(
        headers=headers,
        body=_eml_body(message, filename=filename, limits=limits),
        attachments=_eml_attachments(message),
        limits=limits,
        load_attachment=load_attachment,
    )
    return subject or None, sections


# --- MSG -------------------------------------------------------------------------------------------------


def _msg_attachments(message: MapiMessage) -> Iterator[_Attachment]:
    for number, attachment in enumerate(message.attachments, start=1):
        if attachment.hidden:
            continue  # images shown inside the HTML body (logos, signatures), not files sent along
        if attachment.message is not None:
            # Loaded as a mail by the dispatcher, which bounds how deep mails may nest.
            yield _Attachment(attachment.name, attachment.message.as_rfc822(), "message/rfc822")
        elif attachment.mime not in _SIGNATURE_TYPES:
            name = _attachment_name(attachment.name, f"pièce jointe {number}")
            yield _Attachment(name, attachment.data, attachment.mime)


def load_msg(
    data: bytes, *, filename: str, limits: Limits, load_attachment: AttachmentLoader
) -> tuple[str | None, list[Section]]:
    """An Outlook message (OLE2 ``.msg``): headers, body, then its attachments; the title is the subject."""
    import struct

    try:
        message = read_msg(data)
    except (OSError, KeyError, ValueError, IndexError, TypeError, RecursionError, struct.error) as exc:
        raise CorruptDocumentError(
            f"« {filename} » n'est pas un message Outlook (MSG) valide.", filename=filename
        ) from exc
    subject = _one_line(message.subject)
    headers = [
        ("De", _one_line(message.sender)),
        ("À", _one_line(message.to)),
        ("Cc", _one_line(message.cc)),
        ("Date", _date_text(message.date)),
        ("Objet", subject),
    ]
    body = _CONTROL.sub("", message.body.replace("\r\n", "\n"))
    if not body.strip() and message.html:
        body = _html_text(message.html, filename=filename, limits=limits)
    sections = _mail_sections(
        headers=headers,
        body=body,
        attachments=_msg_attachments(message),
        limits=limits,
        load_attachment=load_attachment,
    )
    return subject or None, sections
