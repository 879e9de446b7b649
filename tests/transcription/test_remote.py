"""RemoteTranscriber against an OpenAI-compatible server simulated with httpx.MockTransport.

The fake server really reads what it receives: it parses the multipart form, decodes the WAV
window, finds where the tone bursts are and answers with one segment per burst, so timings
checked here come from the uploaded audio, not from canned answers.
"""

from __future__ import annotations

import io
import json
import threading
import wave
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.transcription.factories import RATE, BandEnergyEmbedder, silence, tone, write_wav
from transcription import RemoteTranscriber, SpeakerDiarizer
from transcription.errors import (
    AudioTooLongError,
    RemoteTranscriptionError,
    SilentAudioError,
    TranscriptionCancelled,
    UnsupportedAudioError,
)


def _form(request: httpx.Request) -> tuple[dict[str, list[str]], bytes]:
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.content
    message = BytesParser(policy=HTTP).parsebytes(raw)
    fields: dict[str, list[str]] = {}
    audio = b""
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if part.get_filename():
            audio = payload
        else:
            fields.setdefault(str(name), []).append(payload.decode())
    return fields, audio


def _bursts(wav_bytes: bytes) -> list[tuple[float, float]]:
    """Spans (seconds) where the uploaded audio is loud."""
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (RATE, 1, 2)
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    pcm = np.pad(pcm, (0, -len(pcm) % (RATE // 100)))
    loud = np.abs(pcm.astype(np.float32)).reshape(-1, RATE // 100).max(axis=1) > 1000  # 10 ms frames
    spans, start = [], None
    for i, flag in enumerate([*loud, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            spans.append((start / 100, i / 100))
            start = None
    return spans


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[tuple[httpx.Request, dict[str, list[str]]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fields, audio = _form(request)
        self.requests.append((request, fields))
        bursts = _bursts(audio)
        segments = [
            {"id": i, "start": a, "end": b, "text": f"son de {b - a:.1f} secondes"}
            for i, (a, b) in enumerate(bursts)
        ]
        words = [{"word": "son", "start": a, "end": a + 0.2} for a, _ in bursts]
        body: dict[str, Any] = {"text": " ".join(str(s["text"]) for s in segments), "language": "french"}
        body.update(duration=len(audio) / RATE / 2, segments=segments, words=words)
        return httpx.Response(200, json=body)


@pytest.fixture
def bursts_wav(tmp_path: Path) -> Path:
    # bursts at 1-2 s, 5-7 s and 11-12 s; windows of 6 s cut in the pauses
    samples = np.concatenate(
        [silence(1), tone(300, 1), silence(3), tone(300, 2), silence(4), tone(300, 1), silence(1)]
    )
    return write_wav(samples, tmp_path / "bursts.wav")


def _client(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://whisper.test")


def test_windows_are_uploaded_and_timings_offset(bursts_wav: Path) -> None:
    server = FakeServer()
    remote = RemoteTranscriber(
        base_url="http://whisper.test/v1/",
        model="openai/whisper-large-v3",
        api_key="secret-key",
        client=_client(server),
        window_s=6.0,
    )
    progress: list[float] = []
    result = remote.transcribe(bursts_wav, language="fr", on_progress=progress.append)
    assert len(server.requests) >= 2
    request, fields = server.requests[0]
    assert request.url.path == "/v1/audio/transcriptions"
    assert request.headers["authorization"] == "Bearer secret-key"
    assert fields["model"] == ["openai/whisper-large-v3"]
    assert fields["response_format"] == ["verbose_json"]
    assert fields["language"] == ["fr"]
    assert fields["timestamp_granularities[]"] == ["segment", "word"]
    # the previous window's text is sent as the prompt of the next one
    assert "prompt" not in fields
    assert [fields.get("prompt") for _, fields in server.requests[1:]] == [
        ["son de 1.0 secondes"],
        ["son de 2.0 secondes"],
    ]
    spans = [(s.start, s.end) for s in result.segments]
    assert spans == [pytest.approx(x, abs=0.02) for x in [(1.0, 2.0), (5.0, 7.0), (11.0, 12.0)]]
    assert [s.words[0].start for s in result.segments] == pytest.approx([1.0, 5.0, 11.0], abs=0.02)
    assert result.language == "fr"
    assert result.model == "openai-compatible:openai/whisper-large-v3"
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_detected_language_name_is_mapped_to_its_code(bursts_wav: Path) -> None:
    remote = RemoteTranscriber(base_url="http://whisper.test/v1", model="w", client=_client(FakeServer()))
    assert remote.transcribe(bursts_wav).language == "fr"


def test_plain_json_answer_becomes_one_segment(bursts_wav: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        _, audio = _form(request)
        return httpx.Response(200, json={"text": "Bonjour.", "duration": len(audio) / 2 / RATE})

    remote = RemoteTranscriber(base_url="http://whisper.test/v1", model="w", client=_client(handler))
    (segment,) = remote.transcribe(bursts_wav).segments
    assert segment.text == "Bonjour." and segment.end == pytest.approx(13.0, abs=0.05)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(500, text="boom"), "HTTP 500"),
        (httpx.Response(200, text="<html>not json</html>"), "JSON attendu"),
        (httpx.Response(200, json={"segments": [{"start": "zéro", "end": 1, "text": "x"}]}), "invalide"),
        (httpx.Response(200, json=["not", "an", "object"]), "JSON attendu"),
    ],
)
def test_server_failures_are_translated(bursts_wav: Path, response: httpx.Response, message: str) -> None:
    remote = RemoteTranscriber(
        base_url="http://whisper.test/v1", model="w", client=_client(lambda r: response)
    )
    with pytest.raises(RemoteTranscriptionError, match=message) as caught:
        remote.transcribe(bursts_wav)
    assert caught.value.status_code == (500 if response.status_code == 500 else None)


def test_timeouts_and_unreachable_servers(bursts_wav: Path) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler, message in ((timeout, "à temps"), (refused, "injoignable")):
        remote = RemoteTranscriber(base_url="http://whisper.test/v1", model="w", client=_client(handler))
        with pytest.raises(RemoteTranscriptionError, match=message) as caught:
            remote.transcribe(bursts_wav)
        assert isinstance(caught.value.__cause__, httpx.HTTPError)


def test_local_checks_run_before_any_upload(tmp_path: Path) -> None:
    server = FakeServer()
    remote = RemoteTranscriber(
        base_url="http://whisper.test/v1", model="w", client=_client(server), max_duration_s=2.0
    )
    with pytest.raises(AudioTooLongError):
        remote.transcribe(write_wav(tone(300, 3.0), tmp_path / "long.wav"))
    with pytest.raises(SilentAudioError):
        remote.transcribe(write_wav(silence(1.5), tmp_path / "silence.wav"))
    assert server.requests == [], "silent windows are not uploaded"


def test_json_bodies_are_utf8(bursts_wav: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "text": "Séance ouverte à 9 h",
            "segments": [{"start": 0, "end": 1, "text": "Séance ouverte à 9 h"}],
        }
        return httpx.Response(200, content=json.dumps(body, ensure_ascii=False).encode())

    remote = RemoteTranscriber(base_url="http://whisper.test/v1", model="w", client=_client(handler))
    assert remote.transcribe(bursts_wav).text == "Séance ouverte à 9 h"


def test_language_is_locked_on_the_first_window_with_speech(tmp_path: Path) -> None:
    # window 1: a quiet hum the server finds no speech in (says "english"); windows 2-3: speech
    samples = np.concatenate(
        [tone(60, 5.5, amplitude=0.02), silence(0.5), tone(300, 5), silence(1), tone(300, 5)]
    )
    path = write_wav(samples, tmp_path / "intro.wav")
    sent: list[list[str] | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fields, audio = _form(request)
        sent.append(fields.get("language"))
        bursts = [(a, b) for a, b in _bursts(audio) if b - a > 1.0]
        if not bursts:
            return httpx.Response(200, json={"language": "english", "segments": []})
        segments = [{"start": a, "end": b, "text": "bonjour"} for a, b in bursts]
        return httpx.Response(200, json={"language": "fr", "segments": segments})

    remote = RemoteTranscriber(base_url="http://t/v1", model="w", client=_client(handler), window_s=6.0)
    result = remote.transcribe(path)
    assert result.language == "fr"
    assert sent == [None, None, ["fr"]]


def test_diarization_progress_and_cancellation(tmp_path: Path) -> None:
    # "speaker" A at 250 Hz, B at 1500 Hz, each burst its own segment on the fake server
    samples = np.concatenate([tone(250, 2), silence(1), tone(1500, 2), silence(1), tone(250, 2)])
    path = write_wav(samples, tmp_path / "voices.wav")
    diarizer = SpeakerDiarizer(embedder=BandEnergyEmbedder())
    remote = RemoteTranscriber(
        base_url="http://t/v1", model="w", client=_client(FakeServer()), diarizer=diarizer
    )
    progress: list[float] = []
    result = remote.transcribe(path, diarize=True, on_progress=progress.append)
    assert [s.speaker for s in result.segments] == ["Intervenant 1", "Intervenant 2", "Intervenant 1"]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert any(p == pytest.approx(0.85) for p in progress), "text done, speakers still to come"
    assert sum(p > 0.85 for p in progress) == 3  # one step per segment analysed

    cancel = threading.Event()

    def cancel_during_diarization(fraction: float) -> None:
        if fraction >= 0.85:
            cancel.set()

    with pytest.raises(TranscriptionCancelled):
        remote.transcribe(path, diarize=True, on_progress=cancel_during_diarization, cancel=cancel)


def test_a_directory_is_not_audio(tmp_path: Path) -> None:
    remote = RemoteTranscriber(base_url="http://t/v1", model="w", client=_client(FakeServer()))
    with pytest.raises(UnsupportedAudioError, match="introuvable ou illisible"):
        remote.transcribe(tmp_path)
