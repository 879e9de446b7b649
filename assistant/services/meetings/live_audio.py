"""The audio of a live transcription on disk: every frame received, appended and synced before it is acknowledged.

One file per session, a sequence of records ``seq (uint32 BE) | length (uint32 BE) | PCM 16 kHz mono s16le``.
The file is its own journal: after a crash or a restart, :meth:`LiveRecording.open` reads the records back to
find the last sequence number stored and drops a record cut short by the crash, so a client resuming the
session resends exactly what was lost. Frames only ever extend the file in order (``last_seq + 1``), so the
assembled recording has neither gap nor duplicate.
"""

from __future__ import annotations

import os
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["BYTES_PER_SECOND", "LiveRecording", "write_wav"]

BYTES_PER_SECOND = 16_000 * 2
_HEADER = struct.Struct(">II")
_COPY_CHUNK = 1024 * 1024


class LiveRecording:
    """An open session's frames file; blocking I/O, meant for one connection at a time.

    Example::

        recording = LiveRecording.open(path)
        if recording.append(seq, pcm):   # False: a duplicate, already stored
            ...
        recording.sync()                 # then acknowledge recording.last_seq
    """

    def __init__(self, path: Path, handle: BinaryIO, last_seq: int, pcm_bytes: int) -> None:
        self.path = path
        self._handle = handle
        #: Highest sequence number stored (-1: none yet); every number up to it is stored.
        self.last_seq = last_seq
        self.pcm_bytes = pcm_bytes
        self._unsynced = False

    @classmethod
    def open(cls, path: Path) -> LiveRecording:
        """Open (or create) the file, recover its last sequence number and cut a torn last record."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+b")
        handle.seek(0)
        last_seq, pcm_bytes, good_end = -1, 0, 0
        while True:
            header = handle.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            seq, length = _HEADER.unpack(header)
            payload_end = handle.tell() + length
            if payload_end > os.fstat(handle.fileno()).st_size:
                break
            handle.seek(payload_end)
            last_seq, pcm_bytes, good_end = seq, pcm_bytes + length, payload_end
        if good_end != os.fstat(handle.fileno()).st_size:
            handle.truncate(good_end)
            os.fsync(handle.fileno())
        handle.seek(0, os.SEEK_END)
        return cls(path, handle, last_seq, pcm_bytes)

    @property
    def seconds(self) -> float:
        """Audio stored, in seconds."""
        return self.pcm_bytes / BYTES_PER_SECOND

    def append(self, seq: int, pcm: bytes) -> bool:
        """Store the next frame; ``False`` (nothing written) for a frame stored already or one out of order."""
        if seq != self.last_seq + 1:
            return False
        self._handle.write(_HEADER.pack(seq, len(pcm)) + pcm)
        self.last_seq, self.pcm_bytes, self._unsynced = seq, self.pcm_bytes + len(pcm), True
        return True

    def sync(self) -> None:
        """Make what was appended durable (the acknowledgement comes after)."""
        if self._unsynced:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._unsynced = False

    def close(self) -> None:
        self.sync()
        self._handle.close()

    def pcm_chunks(self) -> Iterator[bytes]:
        """The stored PCM, in order (reads the file from its start; appends stay at its end)."""
        self._handle.flush()
        with self.path.open("rb") as reader:
            while header := reader.read(_HEADER.size):
                if len(header) < _HEADER.size:
                    return
                _, length = _HEADER.unpack(header)
                yield reader.read(length)


def write_wav(chunks: Iterator[bytes], target: Path) -> int:
    """A 16 kHz mono 16-bit WAV of ``chunks``; returns the number of PCM bytes."""
    size = 0
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        for chunk in chunks:
            out.writeframes(chunk)
            size += len(chunk)
    return size
