from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Chunk, CollectionIndex, IndexStore, VectorIndex, chunk_id
from rag.errors import CollectionNotLoadedError, DuplicateChunkError, IndexMismatchError

DIM = 16


def unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    normalised: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return normalised


def chunks_for(document_id: str, count: int) -> list[Chunk]:
    texts = [f"Passage {i} du document {document_id}" for i in range(count)]
    return [
        Chunk(
            id=chunk_id(document_id, i, t),
            document_id=document_id,
            ordinal=i,
            text=t,
            content_hash="h",
            page=i + 1,
        )
        for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_vector_index_add_search_remove_persist(kind: str, tmp_path: Path) -> None:
    vectors = unit(200)
    ids = list(range(1000, 1200))
    index = VectorIndex(DIM, kind=kind)  # type: ignore[arg-type]
    index.add(ids, vectors)
    assert len(index) == 200 and 1005 in index
    assert index.search(vectors[5], 1)[0][0] == 1005
    assert index.search(vectors[5], 1)[0][1] == pytest.approx(1.0, abs=1e-5)

    assert index.remove([1005, 999_999]) == 1
    assert all(i != 1005 for i, _ in index.search(vectors[5], 10))
    with pytest.raises(DuplicateChunkError):
        index.add([1006], vectors[6:7])

    index.save(tmp_path / "v.faiss")
    again = VectorIndex.load(tmp_path / "v.faiss", dim=DIM, tombstones=index.tombstones)
    assert again.kind == kind and len(again) == 199
    assert again.search(vectors[7], 1)[0][0] == 1007
    assert all(i != 1005 for i, _ in again.search(vectors[5], 10))
    # Re-adding a removed id (re-ingestion of the same content) works for both kinds.
    again.add([1005], vectors[5:6])
    assert again.search(vectors[5], 1)[0][0] == 1005 and len(again) == 200
    with pytest.raises(IndexMismatchError):
        VectorIndex.load(tmp_path / "v.faiss", dim=DIM + 1)


def test_hnsw_compacts_when_tombstones_pile_up() -> None:
    vectors = unit(100)
    index = VectorIndex(DIM, kind="hnsw")
    index.add(list(range(100)), vectors)
    index.remove(range(10))
    assert len(index.tombstones) == 10
    index.remove(range(10, 30))  # passes 20 % -> rebuilt without them
    assert index.tombstones == frozenset() and len(index) == 70
    assert index.search(vectors[50], 1)[0][0] == 50
    assert np.allclose(index.vector(50), vectors[50])


def test_vector_index_rejects_bad_shapes() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(IndexMismatchError):
        index.add([1, 2], unit(3))
    with pytest.raises(IndexMismatchError):
        index.add([1], np.zeros((1, DIM + 1), np.float32))
    assert index.search(unit(1)[0], 5) == []


def test_collection_remove_document_and_switch_to_hnsw() -> None:
    collection = CollectionIndex("rh", dim=DIM, model_id="m", flat_max=50)
    a, b = chunks_for("a", 30), chunks_for("b", 30)
    collection.add(a, unit(30, 1))
    assert collection.kind == "flat"
    collection.add(b, unit(30, 2))
    assert collection.kind == "hnsw" and len(collection) == 60
    removed = collection.remove_document("a")
    assert sorted(removed) == sorted(c.id for c in a)
    assert collection.document_ids == {"b"}
    assert all(chunk.document_id == "b" for chunk, _ in collection.search_vectors(unit(1, 1)[0], 10))
    assert collection.search_keywords("document b", 3)[0][0].document_id == "b"
    assert all(c.document_id == "b" for c, _ in collection.search_keywords("document a", 60))


def rows(chunks: list[Chunk], vectors: np.ndarray) -> list[tuple[Chunk, np.ndarray]]:
    return list(zip(chunks, vectors, strict=True))


def test_store_rebuilds_from_rows_then_reloads_from_disk(tmp_path: Path) -> None:
    chunks, vectors = chunks_for("doc", 20), unit(20)
    calls: list[int] = []

    def source() -> list[tuple[Chunk, np.ndarray]]:
        calls.append(1)
        return rows(chunks, vectors)

    store = IndexStore(tmp_path, dim=DIM, model_id="m")
    collection = store.open("rh", version=1, rows=source)
    assert len(collection) == 20 and calls == [1]
    assert store.open("rh", version=1, rows=source) is collection and calls == [1]

    # Another replica (fresh store on the same disk) loads the saved cache without the database.
    other = IndexStore(tmp_path, dim=DIM, model_id="m")
    loaded = other.open("rh", version=1, rows=source)
    assert calls == [1] and len(loaded) == 20
    assert loaded.search_vectors(vectors[3], 1)[0][0] == chunks[3]

    # The database moved to version 2: the cache is stale and is rebuilt from rows.
    chunks.pop()
    vectors = vectors[:-1]
    third = IndexStore(tmp_path, dim=DIM, model_id="m")
    assert len(third.open("rh", version=2, rows=source)) == 19 and calls == [1, 1]
    assert len([p for p in (tmp_path / "rh").iterdir() if p.is_dir()]) == 1  # old snapshot cleaned


def test_store_save_after_incremental_change(tmp_path: Path) -> None:
    store = IndexStore(tmp_path, dim=DIM, model_id="m")
    collection = store.open("rh", version=1, rows=lambda: [])
    collection.add(chunks_for("new", 3), unit(3))
    collection.version = 2
    store.save(collection)
    reloaded = IndexStore(tmp_path, dim=DIM, model_id="m").open(
        "rh", version=2, rows=lambda: pytest.fail("the saved cache is current")
    )
    assert reloaded.document_ids == {"new"}


def test_store_rebuilds_a_corrupt_or_foreign_cache(tmp_path: Path) -> None:
    chunks, vectors = chunks_for("doc", 5), unit(5)
    IndexStore(tmp_path, dim=DIM, model_id="m").open("rh", version=1, rows=lambda: rows(chunks, vectors))
    snapshot = tmp_path / "rh" / (tmp_path / "rh" / "CURRENT").read_text()
    (snapshot / "vectors.faiss").write_bytes(b"garbage")
    rebuilt: list[int] = []

    def source(tag: int) -> list[tuple[Chunk, np.ndarray]]:
        rebuilt.append(tag)
        return rows(chunks, vectors)

    store = IndexStore(tmp_path, dim=DIM, model_id="m")
    store.open("rh", version=1, rows=lambda: source(1))
    assert rebuilt == [1]

    # A cache built with another embedding model is never reused.
    meta_file = tmp_path / "rh" / (tmp_path / "rh" / "CURRENT").read_text() / "meta.json"
    assert json.loads(meta_file.read_text())["model_id"] == "m"
    other_model = IndexStore(tmp_path, dim=DIM, model_id="autre")
    other_model.open("rh", version=1, rows=lambda: source(2))
    assert rebuilt == [1, 2]


def test_store_guards(tmp_path: Path) -> None:
    store = IndexStore(tmp_path, dim=DIM, model_id="m")
    with pytest.raises(CollectionNotLoadedError):
        store.get("jamais-ouverte")
    with pytest.raises(ValueError):
        store.open("../evasion", version=1, rows=lambda: [])
    store.open("rh", version=1, rows=lambda: [])
    assert store.loaded == {"rh"}
    store.drop("rh")
    assert store.loaded == frozenset() and not (tmp_path / "rh").exists()
