"""Outlook ``.msg`` files read as MAPI property streams in an OLE2 container (olefile, BSD-licensed).

A ``.msg`` holds each property of the message in a stream ``__substg1.0_<id><type>`` (strings and binaries)
or in the fixed-size entries of ``__properties_version1.0`` (integers, booleans, dates); recipients and
attachments are sub-storages with the same layout, and an attached message is a whole message stored in
its attachment's ``__substg1.0_3701000D`` storage ([MS-OXMSG]). Only what indexing needs is read: headers,
plain or HTML body, attachments. Embedded messages are turned into RFC 822 bytes so the dispatcher loads
them as mails, with its nesting bound.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import struct
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

__all__ = ["MapiAttachment", "MapiMessage", "read_msg"]

_UNICODE, _STRING8, _BINARY, _OBJECT = 0x001F, 0x001E, 0x0102, 0x000D
_INT32, _BOOLEAN, _SYSTIME = 0x0003, 0x000B, 0x0040

_SUBJECT, _BODY, _HTML = 0x0037, 0x1000, 0x1013
_SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
_SENT_REPRESENTING_NAME = 0x0042
_DISPLAY_TO, _DISPLAY_CC = 0x0E04, 0x0E03
_SUBMIT_TIME, _DELIVERY_TIME = 0x0039, 0x0E06
_MESSAGE_CODEPAGE, _INTERNET_CPID = 0x3FFD, 0x3FDE
_RECIPIENT_TYPE, _DISPLAY_NAME, _EMAIL_ADDRESS, _SMTP_ADDRESS = 0x0C15, 0x3001, 0x3003, 0x39FE
_ATTACH_DATA, _ATTACH_FILENAME, _ATTACH_METHOD, _ATTACH_LONG_FILENAME = 0x3701, 0x3704, 0x3705, 0x3707
_ATTACH_MIME, _ATTACHMENT_HIDDEN = 0x370E, 0x7FFE
_BY_VALUE, _EMBEDDED_MESSAGE = 1, 5
_TO, _CC = 1, 2

# The fixed header before the property entries: 32 bytes for the message itself, 24 for an embedded
# message, 8 for a recipient or an attachment.
_TOP_HEADER, _EMBEDDED_HEADER, _CHILD_HEADER = 32, 24, 8
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class MapiAttachment:
    """One attachment: its bytes, or the message it embeds, or neither (a link, an OLE object)."""

    name: str
    mime: str | None
    hidden: bool
    data: bytes | None = None
    message: MapiMessage | None = None


@dataclass(frozen=True, slots=True)
class MapiMessage:
    subject: str
    sender: str
    to: str
    cc: str
    date: dt.datetime | None
    body: str
    html: str | None
    attachments: list[MapiAttachment] = field(default_factory=list)

    def as_rfc822(self) -> bytes:
        """The message as a mail in RFC 822 format, its attachments (embedded messages included) kept."""
        return _as_email(self).as_bytes()


class _Storage:
    """One storage of the message tree: its streams by property, its fixed properties, its children."""

    def __init__(self, ole: Any, path: list[str], header: int) -> None:
        self._ole = ole
        self.path = path
        self._fixed: dict[int, tuple[int, bytes]] = {}
        properties = [*path, "__properties_version1.0"]
        if ole.exists("/".join(properties)):
            raw = ole.openstream(properties).read()
            for offset in range(header, len(raw) - 15, 16):
                tag, _flags, value = struct.unpack_from("<II8s", raw, offset)
                self._fixed[tag >> 16] = (tag & 0xFFFF, value)

    def _stream(self, name: str) -> bytes | None:
        path = [*self.path, name]
        return self._ole.openstream(path).read() if self._ole.get_type(path) == 2 else None  # 2: a stream

    def binary(self, prop: int) -> bytes | None:
        return self._stream(f"__substg1.0_{prop:04X}{_BINARY:04X}")

    def text(self, prop: int, codepage: str) -> str:
        unicode = self._stream(f"__substg1.0_{prop:04X}{_UNICODE:04X}")
        if unicode is not None:
            return unicode.decode("utf-16-le", errors="replace").rstrip("\x00")
        raw = self._stream(f"__substg1.0_{prop:04X}{_STRING8:04X}")
        return raw.decode(codepage, errors="replace").rstrip("\x00") if raw is not None else ""

    def integer(self, prop: int) -> int | None:
        found = self._fixed.get(prop)
        if found is None or found[0] not in (_INT32, _BOOLEAN):
            return None
        return int(struct.unpack_from("<I", found[1])[0])

    def time(self, prop: int) -> dt.datetime | None:
        found = self._fixed.get(prop)
        if found is None or found[0] != _SYSTIME:
            return None
        ticks = struct.unpack_from("<Q", found[1])[0]
        if ticks == 0:
            return None
        try:
            return _FILETIME_EPOCH + dt.timedelta(microseconds=ticks // 10)
        except OverflowError:
            return None

    def children(self, prefix: str) -> list[list[str]]:
        depth = len(self.path) + 1
        found = {
            tuple(entry[:depth])
            for entry in self._ole.listdir(streams=True, storages=True)
            if len(entry) >= depth and entry[: depth - 1] == self.path and entry[depth - 1].startswith(prefix)
        }
        return [list(entry) for entry in sorted(found)]


def _codepage(storage: _Storage, *props: int) -> str:
    for prop in props:
        number = storage.integer(prop)
        if number:
            name = "utf-8" if number == 65001 else f"cp{number}"
            try:
                return codecs.lookup(name).name
            except LookupError:
                continue
    return "cp1252"  # what Outlook writes for Western European mailboxes


def _address(name: str, address: str) -> str:
    # Exchange-internal addresses (« /O=ORGANISATION/OU=… ») mean nothing to a reader: the name alone.
    address = "" if address.startswith("/") else address
    if name and address and name != address:
        return f"{name} <{address}>"
    return name or address


def _recipients(storage: _Storage, codepage: str) -> tuple[str, str]:
    by_type: dict[int, list[str]] = {_TO: [], _CC: []}
    for path in storage.children("__recip_version1.0_#"):
        recipient = _Storage(storage._ole, path, _CHILD_HEADER)
        kind = recipient.integer(_RECIPIENT_TYPE)
        if kind in by_type:
            address = recipient.text(_SMTP_ADDRESS, codepage) or recipient.text(_EMAIL_ADDRESS, codepage)
            by_type[kind].append(_address(recipient.text(_DISPLAY_NAME, codepage), address))
    # Without recipient storages (drafts, some exports), the display lists still name them.
    to = "; ".join(by_type[_TO]) or storage.text(_DISPLAY_TO, codepage)
    cc = "; ".join(by_type[_CC]) or storage.text(_DISPLAY_CC, codepage)
    return to, cc


def _attachment(storage: _Storage, path: list[str], codepage: str, number: int) -> MapiAttachment:
    part = _Storage(storage._ole, path, _CHILD_HEADER)
    name = (
        part.text(_ATTACH_LONG_FILENAME, codepage)
        or part.text(_ATTACH_FILENAME, codepage)
        or part.text(_DISPLAY_NAME, codepage)
    )
    mime = part.text(_ATTACH_MIME, codepage) or None
    hidden = bool(part.integer(_ATTACHMENT_HIDDEN))
    method = part.integer(_ATTACH_METHOD)
    embedded = [*path, f"__substg1.0_{_ATTACH_DATA:04X}{_OBJECT:04X}"]
    if method == _EMBEDDED_MESSAGE or storage._ole.get_type(embedded) == 1:  # 1: a storage
        message = _message(_Storage(storage._ole, embedded, _EMBEDDED_HEADER))
        fallback = f"{message.subject or f'message {number}'}.msg"
        return MapiAttachment(name or fallback, "message/rfc822", hidden, None, message)
    data = part.binary(_ATTACH_DATA) if method in (None, _BY_VALUE) else None
    return MapiAttachment(name, mime, hidden, data)


def _message(storage: _Storage) -> MapiMessage:
    codepage = _codepage(storage, _MESSAGE_CODEPAGE, _INTERNET_CPID)
    to, cc = _recipients(storage, codepage)
    sender_address = storage.text(_SENDER_SMTP, codepage) or storage.text(_SENDER_EMAIL, codepage)
    sender_name = storage.text(_SENDER_NAME, codepage) or storage.text(_SENT_REPRESENTING_NAME, codepage)
    # A binary HTML body is in the mail's Internet code page, as its author's client sent it.
    raw_html = storage.binary(_HTML)
    html_codepage = _codepage(storage, _INTERNET_CPID, _MESSAGE_CODEPAGE)
    html = raw_html.decode(html_codepage, errors="replace") if raw_html else storage.text(_HTML, codepage)
    return MapiMessage(
        subject=storage.text(_SUBJECT, codepage),
        sender=_address(sender_name, sender_address),
        to=to,
        cc=cc,
        date=storage.time(_SUBMIT_TIME) or storage.time(_DELIVERY_TIME),
        body=storage.text(_BODY, codepage),
        html=html or None,
        attachments=[
            _attachment(storage, path, codepage, number)
            for number, path in enumerate(storage.children("__attach_version1.0_#"), start=1)
        ],
    )


def read_msg(data: bytes) -> MapiMessage:
    """The message stored in a ``.msg`` file; raises ``OSError``/``ValueError`` on a damaged container."""
    import olefile  # type: ignore[import-untyped]

    with olefile.OleFileIO(data) as ole:
        return _message(_Storage(ole, [], _TOP_HEADER))


def _header_value(text: str) -> str:
    return " ".join(text.split())


def _as_email(message: MapiMessage) -> EmailMessage:
    mail = EmailMessage(policy=default_policy)
    for header, value in (("From", message.sender), ("To", message.to), ("Cc", message.cc)):
        if value:
            mail[header] = _header_value(value).replace(";", ",")
    if message.subject:
        mail["Subject"] = _header_value(message.subject)
    if message.date is not None:
        mail["Date"] = email.utils.format_datetime(message.date)
    if message.body.strip():
        mail.set_content(message.body.replace("\r\n", "\n"))
    elif message.html:
        mail.set_content(message.html, subtype="html")
    else:
        mail.set_content("")
    for attachment in message.attachments:
        if attachment.hidden:
            continue
        if attachment.message is not None:
            mail.add_attachment(_as_email(attachment.message), filename=attachment.name)
        elif attachment.data is not None:
            maintype, _, subtype = (attachment.mime or "application/octet-stream").partition("/")
            mail.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.name
            )
    return mail
