"""Live transcription through the real app: espeak-ng speech streamed as numbered PCM frames over the WebSocket.

Partial text comes back while frames are acknowledged; a dropped connection resumes with duplicates and a gap
handled (the assembled recording is exactly what was spoken); finishing queues a normal transcription; strangers,
anonymous callers and other sites are refused.
"""

from __future__ import annotations

import io
import struct
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.store.models import Role
from tests.assistant.transcription.helpers import wait_until_finished
from tests.factories import PASSWORD, Account, make_account
from transcription import load_audio

FRAME_SAMPLES = 8000  # 0.5 s


def _pcm(wav: Path) -> bytes:
    samples = load_audio(wav)
    return np.clip(samples * 32767, -32768, 32767).astype("<i2").tobytes()


def _frames(pcm: bytes) -> list[bytes]:
    size = FRAME_SAMPLES * 2
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def _frame(seq: int, pcm: bytes) -> bytes:
    return struct.pack(">I", seq) + pcm


def _start(client: TestClient, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post("/api/live-transcriptions", json={"language": "fr", **body}, headers=account.bearer)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    assert session["status"] == "open" and session["last_seq"] == -1
    return session


def _read_until(ws: Any, done: Any, timeout: float = 90) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages.append(ws.receive_json())
        if done(messages):
            return messages
    raise AssertionError(f"not done after {timeout}s: {messages[-5:]}")


def _acked(messages: list[dict[str, Any]]) -> int:
    return max((m["seq"] for m in messages if m["type"] == "ack"), default=-1)


def _session_cookie(client: TestClient, username: str) -> str:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = str(response.cookies["souverain_session"])
    client.cookies.clear()
    return cookie


def test_partial_text_arrives_while_frames_are_acknowledged(
    client: TestClient, agent: Account, french_wav: Path
) -> None:
    session = _start(client, agent, title="Conseil du lundi")
    frames = _frames(_pcm(french_wav))
    with client.websocket_connect(session["websocket_path"], headers=agent.bearer) as ws:
        ready = ws.receive_json()
        assert ready == {"type": "ready", "acked": -1, "seconds": 0.0}
        for seq, pcm in enumerate(frames):
            ws.send_bytes(_frame(seq, pcm))
        messages = _read_until(
            ws,
            lambda got: _acked(got) == len(frames) - 1 and any(m["type"] == "partial" and m["text"] for m in got),
        )
    acks = [m["seq"] for m in messages if m["type"] == "ack"]
    assert acks == sorted(acks), "acknowledgements only move forward"
    text = " ".join(m["text"] for m in messages if m["type"] == "partial").lower()
    assert "bonjour" in text or "séance" in text or "conseil" in text, text
    state = client.get(f"/api/live-transcriptions/{session['id']}", headers=agent.bearer).json()
    assert state["last_seq"] == len(frames) - 1
    assert state["seconds"] == pytest.approx(load_audio(french_wav).size / 16000, abs=0.01)


def test_a_dropped_connection_resumes_without_gap_or_duplicate_then_finishes(
    client: TestClient, agent: Account, french_wav: Path
) -> None:
    pcm = _pcm(french_wav)
    frames = _frames(pcm)
    session = _start(client, agent, keep_audio=True)
    path = session["websocket_path"]
    with client.websocket_connect(path, headers=agent.bearer) as ws:
        assert ws.receive_json()["acked"] == -1
        for seq in range(6):
            ws.send_bytes(_frame(seq, frames[seq]))
        _read_until(ws, lambda got: _acked(got) >= 3)
    # Dropped: the client resends everything after the last ack it saw, some of it stored already.
    with client.websocket_connect(path, headers=agent.bearer) as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["acked"] == 5, "every frame before the drop was stored"
        assert ready["seconds"] == pytest.approx(6 * FRAME_SAMPLES / 16000)
        ws.send_bytes(_frame(4, frames[4]))  # a duplicate
        ws.send_bytes(_frame(8, frames[8]))  # a gap: 6 and 7 are missing
        messages = _read_until(ws, lambda got: any(m["type"] == "resend" for m in got))
        assert {"type": "resend", "from": 6} in messages
        for seq in range(6, len(frames)):
            ws.send_bytes(_frame(seq, frames[seq]))
        _read_until(ws, lambda got: _acked(got) == len(frames) - 1)

    finished = client.post(f"/api/live-transcriptions/{session['id']}/finish", headers=agent.bearer)
    assert finished.status_code == 202, finished.text
    transcription_id = finished.json()["transcription_id"]
    assert finished.json()["status"] == "finished"
    assert wait_until_finished(client, agent, transcription_id)["status"] == "succeeded"

    audio = client.get(f"/api/transcriptions/{transcription_id}/audio", headers=agent.bearer)
    assert audio.status_code == 200
    with wave.open(io.BytesIO(audio.content)) as recorded:
        assert recorded.getframerate() == 16000 and recorded.getnchannels() == 1
        assert recorded.readframes(recorded.getnframes()) == pcm, "the recording is exactly what was sent"
    result = client.get(f"/api/transcriptions/{transcription_id}/result", headers=agent.bearer).json()
    assert "biblioth" in result["text"].lower()

    again = client.post(f"/api/live-transcriptions/{session['id']}/finish", headers=agent.bearer)
    assert again.status_code == 409
    with client.websocket_connect(path, headers=agent.bearer) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4410


def test_strangers_anonymous_callers_and_other_sites_are_refused(
    client: TestClient, app: FastAPI, agent: Account
) -> None:
    session = _start(client, agent)
    path = session["websocket_path"]
    with client.websocket_connect(path) as ws, pytest.raises(WebSocketDisconnect) as anonymous:
        ws.receive_json()
    assert anonymous.value.code == 4401 and "Authentification" in anonymous.value.reason

    cookie = _session_cookie(client, agent.username)
    same_site = {"Cookie": f"souverain_session={cookie}", "Origin": "http://testserver"}
    with client.websocket_connect(path, headers=same_site) as ws:
        assert ws.receive_json()["type"] == "ready", "the page's own origin with its session cookie"
    evil = {**same_site, "Origin": "https://evil.example"}
    with pytest.raises(WebSocketDisconnect) as foreign, client.websocket_connect(path, headers=evil):
        pass
    assert foreign.value.code == 4403
    cookie_only = {"Cookie": f"souverain_session={cookie}"}
    with client.websocket_connect(path, headers=cookie_only) as ws, pytest.raises(WebSocketDisconnect) as no_origin:
        ws.receive_json()
    assert no_origin.value.code == 4403, "a cookie without Origin is not a page of this site"

    other = make_account(client, app, "autre.agent", Role.AGENT)
    assert client.get(f"/api/live-transcriptions/{session['id']}", headers=other.bearer).status_code == 404
    assert client.post(f"/api/live-transcriptions/{session['id']}/finish", headers=other.bearer).status_code == 404
    with client.websocket_connect(path, headers=other.bearer) as ws, pytest.raises(WebSocketDisconnect) as stranger:
        ws.receive_json()
    assert stranger.value.code == 4404

    auditor = make_account(client, app, "auditeur.l", Role.AUDITEUR)
    assert client.post("/api/live-transcriptions", json={}, headers=auditor.bearer).status_code == 403
    with client.websocket_connect(path, headers=auditor.bearer) as ws, pytest.raises(WebSocketDisconnect) as denied:
        ws.receive_json()
    assert denied.value.code == 4403


def test_limits_close_the_stream_with_a_french_reason(transcription_app: Any, french_wav: Path) -> None:
    app = transcription_app(transcription_max_duration_seconds=1.0, transcription_live_max_frame_bytes=16384)
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        session = _start(client, agent)
        path = session["websocket_path"]
        with client.websocket_connect(path, headers=agent.bearer) as ws, pytest.raises(WebSocketDisconnect) as big:
            ws.receive_json()
            ws.send_bytes(_frame(0, b"\x00\x00" * 9000))
            while True:
                ws.receive_json()
        assert big.value.code == 1009 and "trop grande" in big.value.reason
        frames = _frames(_pcm(french_wav))
        with client.websocket_connect(path, headers=agent.bearer) as ws, pytest.raises(WebSocketDisconnect) as long:
            ws.receive_json()
            for seq in range(4):
                ws.send_bytes(_frame(seq, frames[seq]))
            while True:
                ws.receive_json()
        assert long.value.code == 4413 and "Durée maximale" in long.value.reason
        state = client.get(f"/api/live-transcriptions/{session['id']}", headers=agent.bearer).json()
        assert state["seconds"] == pytest.approx(1.0), "what fits the limit is kept"

        empty = _start(client, agent)
        refused = client.post(f"/api/live-transcriptions/{empty['id']}/finish", headers=agent.bearer)
        assert refused.status_code == 400 and "Aucun son" in refused.json()["error"]["message"]
        bad = client.post("/api/live-transcriptions", json={"language": "français"}, headers=agent.bearer)
        assert bad.status_code == 400 and "Langue" in bad.json()["error"]["message"]


def test_the_live_page_is_in_the_navigation_of_those_who_may_transcribe(
    client: TestClient, app: FastAPI, agent: Account
) -> None:
    anonymous = client.get("/transcription-en-direct", follow_redirects=False)
    assert anonymous.status_code == 303 and "/connexion" in anonymous.headers["location"]
    cookie = {"Cookie": f"souverain_session={_session_cookie(client, agent.username)}"}
    page = client.get("/transcription-en-direct", headers=cookie)
    assert page.status_code == 200
    assert 'href="/transcription-en-direct" aria-current="page"' in page.text
    assert 'aria-live="polite"' in page.text and ">Terminer</button>" in page.text
    assert "/static/live_transcription.js" in page.text
    assert client.get("/static/live_transcription_worklet.js").status_code == 200

    make_account(client, app, "auditeur.p", Role.AUDITEUR)
    auditor = {"Cookie": f"souverain_session={_session_cookie(client, 'auditeur.p')}"}
    refused = client.get("/transcription-en-direct", headers=auditor)
    assert refused.status_code == 403 and 'href="/transcription-en-direct"' not in refused.text
