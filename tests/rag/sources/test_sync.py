"""The incremental planner, on listings built by hand (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rag.sources import KnownFile, RemoteFile, hash_content, plan_sync, resolve_fetched

T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
H_A, H_B, H_C = (hash_content(x) for x in (b"a", b"b", b"c"))


def known(path: str, digest: str, *, size: int = 10, modified: datetime = T0, etag: str | None = None) -> KnownFile:
    return KnownFile(path, size, modified, etag, digest)


def remote(path: str, *, size: int = 10, modified: datetime = T0, etag: str | None = None) -> RemoteFile:
    return RemoteFile(path, size, modified, etag)


def test_content_hash_is_sha256_hex() -> None:
    assert hash_content(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_first_synchronisation_fetches_everything() -> None:
    plan = plan_sync({}, [remote("b.pdf"), remote("a.pdf")])
    assert [f.path for f in plan.to_fetch] == ["a.pdf", "b.pdf"]
    changes = resolve_fetched(plan, {"a.pdf": H_A, "b.pdf": H_B})
    assert [f.path for f in changes.added] == ["a.pdf", "b.pdf"]
    assert not (changes.updated or changes.renamed or changes.removed or changes.unchanged_after_fetch)
    assert changes.state == {"a.pdf": known("a.pdf", H_A), "b.pdf": known("b.pdf", H_B)}


def test_nothing_changed_means_nothing_to_read() -> None:
    state = {"a.pdf": known("a.pdf", H_A, etag='"1"'), "b.pdf": known("b.pdf", H_B)}
    plan = plan_sync(state, [remote("a.pdf", etag='"1"'), remote("b.pdf")])
    assert plan.to_fetch == [] and plan.removed == [] and plan.is_empty
    assert plan.unchanged == ["a.pdf", "b.pdf"]
    changes = resolve_fetched(plan, {})
    assert changes.state == state
    assert not (changes.added or changes.updated or changes.renamed or changes.removed)


@pytest.mark.parametrize(
    ("old", "new", "fetch"),
    [
        # With entity tags on both sides, the tag decides (a server may report a new date for the same version).
        (known("f", H_A, etag='"1"'), remote("f", etag='"2"'), True),
        (known("f", H_A, etag='"1"'), remote("f", etag='"1"', modified=T0 + timedelta(hours=1)), False),
        # A size change is always a change, even under the same tag.
        (known("f", H_A, etag='"1"'), remote("f", etag='"1"', size=11), True),
        # Without a tag (SMB, or a server that stopped sending them): size and modification time.
        (known("f", H_A), remote("f", modified=T0 + timedelta(microseconds=1)), True),
        (known("f", H_A), remote("f", size=9), True),
        (known("f", H_A), remote("f"), False),
        (known("f", H_A, etag='"1"'), remote("f", modified=T0 + timedelta(seconds=1)), True),
        (known("f", H_A, etag='"1"'), remote("f"), False),
    ],
)
def test_what_counts_as_possibly_changed(old: KnownFile, new: RemoteFile, fetch: bool) -> None:
    plan = plan_sync({"f": old}, [new])
    assert (plan.to_fetch == [new]) is fetch
    assert (plan.unchanged == ["f"]) is not fetch


def test_changed_metadata_with_the_same_bytes_is_not_an_update() -> None:
    plan = plan_sync({"f": known("f", H_A)}, [remote("f", modified=T0 + timedelta(days=1))])
    changes = resolve_fetched(plan, {"f": H_A})
    assert changes.updated == []
    assert changes.unchanged_after_fetch == [known("f", H_A, modified=T0 + timedelta(days=1))]
    assert changes.state["f"].modified == T0 + timedelta(days=1)  # the next plan will not read it again


def test_changed_bytes_are_an_update() -> None:
    plan = plan_sync({"f": known("f", H_A)}, [remote("f", size=12)])
    changes = resolve_fetched(plan, {"f": H_B})
    assert changes.updated == [known("f", H_B, size=12)]
    assert changes.state == {"f": known("f", H_B, size=12)}


def test_a_new_path_with_the_bytes_of_a_removed_file_is_a_rename() -> None:
    state = {"RH/a.pdf": known("RH/a.pdf", H_A), "RH/b.pdf": known("RH/b.pdf", H_B)}
    plan = plan_sync(state, [remote("Procédures/a.pdf"), remote("RH/b.pdf")])
    assert [f.path for f in plan.to_fetch] == ["Procédures/a.pdf"]
    assert plan.removed == [state["RH/a.pdf"]]
    changes = resolve_fetched(plan, {"Procédures/a.pdf": H_A})
    assert changes.renamed == [(state["RH/a.pdf"], "Procédures/a.pdf")]
    assert changes.added == [] and changes.removed == []
    assert set(changes.state) == {"Procédures/a.pdf", "RH/b.pdf"}


def test_a_moved_and_edited_file_is_an_addition_and_a_removal() -> None:
    plan = plan_sync({"a.pdf": known("a.pdf", H_A)}, [remote("b.pdf")])
    changes = resolve_fetched(plan, {"b.pdf": H_B})
    assert changes.renamed == []
    assert changes.added == [known("b.pdf", H_B)]
    assert changes.removed == [known("a.pdf", H_A)]


def test_a_copy_of_a_file_still_there_is_an_addition() -> None:
    plan = plan_sync({"a.pdf": known("a.pdf", H_A)}, [remote("a.pdf"), remote("copie/a.pdf")])
    changes = resolve_fetched(plan, {"copie/a.pdf": H_A})
    assert changes.added == [known("copie/a.pdf", H_A)] and changes.renamed == []


def test_identical_removed_files_pair_with_new_paths_of_the_same_name_first() -> None:
    state = {"x/modele.odt": known("x/modele.odt", H_C), "y/lettre.odt": known("y/lettre.odt", H_C)}
    plan = plan_sync(state, [remote("z/lettre.odt"), remote("z/modele.odt"), remote("z/autre.odt")])
    changes = resolve_fetched(plan, {"z/lettre.odt": H_C, "z/modele.odt": H_C, "z/autre.odt": H_C})
    assert sorted((old.path, new) for old, new in changes.renamed) == [
        ("x/modele.odt", "z/modele.odt"),
        ("y/lettre.odt", "z/lettre.odt"),
    ]
    assert changes.added == [known("z/autre.odt", H_C)]  # a third copy: no removed file left to pair with
    assert changes.removed == []


def test_files_whose_reading_failed_are_retried_next_time() -> None:
    state = {"a.pdf": known("a.pdf", H_A)}
    plan = plan_sync(state, [remote("a.pdf", size=99), remote("new.pdf")])
    changes = resolve_fetched(plan, {})
    assert [f.path for f in changes.skipped] == ["a.pdf", "new.pdf"]
    assert changes.state == state  # the old record stays, so the next plan reads the file again
    assert plan_sync(changes.state, [remote("a.pdf", size=99), remote("new.pdf")]).to_fetch == plan.to_fetch


def test_removed_files() -> None:
    state = {"a.pdf": known("a.pdf", H_A), "b.pdf": known("b.pdf", H_B)}
    plan = plan_sync(state, [remote("a.pdf")])
    changes = resolve_fetched(plan, {})
    assert changes.removed == [state["b.pdf"]]
    assert changes.state == {"a.pdf": state["a.pdf"]}


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="deux fois"):
        plan_sync({}, [remote("a"), remote("a")])
    plan = plan_sync({}, [remote("a")])
    with pytest.raises(ValueError, match="pas dans le plan"):
        resolve_fetched(plan, {"b": H_A})
    with pytest.raises(ValueError, match="sha256"):
        resolve_fetched(plan, {"a": "md5-or-whatever"})
    with pytest.raises(ValueError, match="sha256"):
        resolve_fetched(plan, {"a": H_A.upper()})
