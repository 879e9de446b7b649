"""Signed checkpoints of the chain head, kept outside the database.

The hash chain alone proves only that the rows agree with each other: whoever can write the table (or drop its
guard) can cut its tail, or rewrite it from genesis with recomputed hashes, and the chain still verifies. A
checkpoint is the head (event id + hash) signed with an Ed25519 key that is not in the database, appended to a
file the application can append to but not rewrite (a WORM volume, ``chattr +a``, a syslog collector's copy).
``verify`` then checks that every checkpointed event is still in the chain with the same hash: a truncation, a
tail cut or a recomputed rewrite of anything already checkpointed is reported.

Each line of the file is one JSON object ``{"event_id", "hash", "at", "signature"}``; the signature covers the
RFC 8785 canonical JSON of the other three fields.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["ChainAnchor", "Checkpoint", "CheckpointFileError"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that event ``event_id`` had hash ``hash`` (so did every event before it)."""

    event_id: int
    hash: str
    at: str


class CheckpointFileError(Exception):
    """Raised when the checkpoint file holds a line that does not parse or whose signature does not verify."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"ligne {line} : {reason}")
        self.line = line
        self.reason = reason


def _signed_bytes(event_id: int, hash_: str, at: str) -> bytes:
    return rfc8785.dumps({"event_id": event_id, "hash": hash_, "at": at})


class ChainAnchor:
    """Writes checkpoints of the head after appends, and reads them back (signatures checked) for ``verify``."""

    def __init__(self, *, key: Ed25519PrivateKey, path: Path, every: int = 1) -> None:
        self._key = key
        self._public = key.public_key()
        self._path = path
        self._every = max(1, every)
        self._since_last = 0

    @property
    def path(self) -> Path:
        """Where the checkpoints are appended."""
        return self._path

    def after_append(self, *, event_id: int, hash_: str) -> None:
        """Checkpoint the new head every ``every`` appends of this process.

        An interval above 1 trades write volume for a window: events after the last checkpoint can be cut
        undetected. The default (1) checkpoints every event.
        """
        self._since_last += 1
        if self._since_last < self._every:
            return
        self._since_last = 0
        self.write(event_id=event_id, hash_=hash_)

    def write(self, *, event_id: int, hash_: str) -> Checkpoint:
        """Append one signed checkpoint and flush it to disk."""
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        signature = self._key.sign(_signed_bytes(event_id, hash_, at))
        line = json.dumps(
            {"event_id": event_id, "hash": hash_, "at": at, "signature": base64.b64encode(signature).decode("ascii")},
            separators=(",", ":"),
        )
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND only: the process never needs to seek or truncate, so the file may be append-only for it.
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return Checkpoint(event_id=event_id, hash=hash_, at=at)

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in the file, oldest first; :class:`CheckpointFileError` on a forged or broken line."""
        if not self._path.exists():
            return []
        checkpoints: list[Checkpoint] = []
        with self._path.open(encoding="ascii", errors="replace") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw)
                    checkpoint = Checkpoint(event_id=int(data["event_id"]), hash=str(data["hash"]), at=str(data["at"]))
                    signature = base64.b64decode(data["signature"], validate=True)
                except (ValueError, KeyError, TypeError) as exc:
                    raise CheckpointFileError(number, f"illisible ({exc})") from None
                try:
                    self._public.verify(signature, _signed_bytes(checkpoint.event_id, checkpoint.hash, checkpoint.at))
                except InvalidSignature:
                    raise CheckpointFileError(number, "signature invalide") from None
                checkpoints.append(checkpoint)
        return checkpoints
