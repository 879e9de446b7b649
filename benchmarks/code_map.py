"""How easy the code base is to map: lines, modules, the largest modules and repeated code, two revisions side by side.

Usage::

    python benchmarks/code_map.py                      # the revision before the architecture pass vs HEAD
    python benchmarks/code_map.py --before v1 --after HEAD --largest 10

Each revision is read from git (``git archive``) into a temporary folder, so the working tree is not touched.
Lines are non-blank lines of Python and JavaScript; "repeated code" is the ``duplicates`` command's pair count
(pairs of places sharing six or more identical or same-shape lines), when that command is on the PATH.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "rag", "transcription")
# The commit before the first slice of the architecture pass (issue #20).
DEFAULT_BEFORE = "93d570a^"


@dataclass(frozen=True)
class CodeMap:
    revision: str
    python_lines: int
    python_modules: int
    javascript_lines: int
    javascript_modules: int
    flat_service_modules: int
    largest: list[tuple[str, int]]
    duplicate_pairs: str


def _extract(revision: str, target: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip())


def _duplicates(tree: Path) -> str:
    if shutil.which("duplicates") is None:
        return "n/a"
    out = subprocess.run(
        ["duplicates", "--repo", str(tree), "--seconds", "120", "--most", "1"], capture_output=True, text=True
    ).stdout
    match = re.search(r"(\d+) pairs of places .*?\((\d+) by shape alone", out)
    if match is None:
        return "0" if "no duplicates" in out else "?"
    pairs, by_shape = int(match.group(1)), int(match.group(2))
    return f"{pairs} ({pairs - by_shape} exact)"


def measure(revision: str, *, largest: int) -> CodeMap:
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder)
        _extract(revision, tree)
        python = [p for package in PACKAGES for p in (tree / package).rglob("*.py")]
        javascript = list((tree / "assistant/web/static").rglob("*.js"))
        services = [p for p in (tree / "assistant/services").glob("*.py") if p.name != "__init__.py"]
        sizes = sorted(((str(p.relative_to(tree)), _lines(p)) for p in python), key=lambda item: -item[1])
        return CodeMap(
            revision=revision,
            python_lines=sum(size for _, size in sizes),
            python_modules=len(python),
            javascript_lines=sum(_lines(p) for p in javascript),
            javascript_modules=len(javascript),
            flat_service_modules=len(services),
            largest=sizes[:largest],
            duplicate_pairs=_duplicates(tree),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE)
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--largest", type=int, default=8)
    args = parser.parse_args()
    maps = [measure(args.before, largest=args.largest), measure(args.after, largest=args.largest)]
    rows = [
        ("Python lines (non-blank)", [str(m.python_lines) for m in maps]),
        ("Python modules", [str(m.python_modules) for m in maps]),
        ("JavaScript lines / modules", [f"{m.javascript_lines} / {m.javascript_modules}" for m in maps]),
        ("modules directly in assistant/services", [str(m.flat_service_modules) for m in maps]),
        ("duplicates pairs", [m.duplicate_pairs for m in maps]),
    ]
    print(f"| | {maps[0].revision} | {maps[1].revision} |")
    print("|---|---|---|")
    for label, values in rows:
        print(f"| {label} | {' | '.join(values)} |")
    for m in maps:
        print(f"\nLargest modules at {m.revision}:")
        for name, size in m.largest:
            print(f"  {size:5d}  {name}")


if __name__ == "__main__":
    main()
