"""The repository stays true to what the README and the style guide promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# The README and every document in docs/: each path they name must exist in the repository.
DOCUMENTS = ("README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")))
PATH_LIKE = re.compile(r"\.(ya?ml|toml|in|lock|md|py|sh|example|json|png|j2)$")


def _named_paths(document: str, root: Path = ROOT) -> set[str]:
    """Paths named in `document`, relative to the repository: `code` spans and layout blocks."""
    text = (root / document).read_text(encoding="utf-8")
    candidates = set(re.findall(r"`([A-Za-z0-9_.\-/]+)`", text))
    for block in re.findall(r"## Organisation du dépôt\n+```\n(.*?)```", text, re.S):
        for line in block.splitlines():
            candidates.update(w.strip("(),;:") for w in line.split() if "/" in w or "." in w)
    # Keep what looks like a path (not commands, URLs, variables or absolute paths).
    return {
        c.strip("()").rstrip("/")
        for c in candidates
        if ("/" in c or PATH_LIKE.search(c))
        and not c.startswith(("http", "/", "--"))
        and "…" not in c
        and "*" not in c
    }


def _link_targets(document: str, root: Path = ROOT) -> set[str]:
    """Markdown link and image targets in `document` (`file#anchor`), not web addresses."""
    text = (root / document).read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return {t for t in targets if not t.startswith(("http", "mailto:"))}


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file (code blocks left out)."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#{1,6} (.+)$", text, re.M)
    }


# Created at run time (by `make run` or the tests), not committed.
RUNTIME_PATHS = (
    "var/log",
    "var/tracker.db",
    "var/riposte.db",
    "var/secret.key",
    ".venv",
    "models",
    "var/test-artifacts/webchat.png",  # written by tests/integration/test_webchat.py
    "bench/results/baseline.json",  # written by `make bench`
    "var/coverage.json",  # written by `make coverage`
    "var/understanding-eval.json",  # written by `make eval-understanding`
)


def _bare_name_exists(name: str) -> bool:
    """A bare file name (« ladder.yml ») named in a paragraph about its folder."""
    if "/" in name:
        return False
    return any(".venv" not in p.parts for p in ROOT.glob(f"riposte/**/{name}"))


def test_the_readme_keeps_its_layout_section() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"## Organisation du dépôt\n+```\n", readme), "README lost its layout section"
    assert {"riposte/cli/serve.py", ".ci/run"} <= _named_paths("README.md")  # the parser works


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_named_in_the_documentation_exists(document: str) -> None:
    paths = _named_paths(document) - set(RUNTIME_PATHS)
    missing = sorted(p for p in paths if not (ROOT / p).exists() and not _bare_name_exists(p))
    assert not missing, f"{document} names paths that do not exist: {missing}"


def _pointers_outside(document: str, root: Path = ROOT) -> list[str]:
    """A `../` path (paths are named from the repository's root), or a link leaving `root`."""
    outside = sorted(p for p in _named_paths(document, root) if p.startswith("../") or "/../" in p)
    folder = (root / document).parent
    for link in sorted(_link_targets(document, root)):
        target, _, anchor = link.partition("#")
        resolved = (folder / target).resolve() if target else root / document
        if not resolved.is_relative_to(root.resolve()):
            outside.append(target)
        elif not resolved.exists():
            outside.append(f"{target} (missing)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            outside.append(f"{link} (no such heading)")
    return outside


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_documentation_points_inside_the_repository(document: str) -> None:
    outside = _pointers_outside(document)
    assert not outside, f"{document} points outside the repository: {outside}"


def test_a_pointer_out_of_the_repository_is_caught(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("[guide](docs/guide.md)\n", encoding="utf-8")
    (tmp_path / "docs" / "guide.md").write_text(
        "## Les délais : 3 mois\n"
        "Voir `../shared/faits.md`, [le README](../README.md), [ailleurs](../../notes.md),"
        " [absent](absent.md), [ici](#les-délais--3-mois) et [là](#les-delais).\n",
        encoding="utf-8",
    )
    assert _pointers_outside("README.md", tmp_path) == []
    assert _pointers_outside("docs/guide.md", tmp_path) == [
        "../shared/faits.md",
        "#les-delais (no such heading)",
        "../../notes.md",
        "absent.md (missing)",
    ]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_conversation_test_sentences_are_not_training_examples() -> None:
    training: set[str] = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                training.add(line.lstrip("- ").strip().lower())
    copied = []
    for path in ROOT.glob("tests/test_*.yml"):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            for step in story["steps"]:
                if "user" in step and step["user"].strip().lower() in training:
                    copied.append((path.name, step["user"].strip()))
    assert not copied, f"test sentences copied from training data: {copied}"


def test_the_operations_guide_names_every_variable_of_env_example() -> None:
    variables = re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    guide = (ROOT / "docs" / "exploitation.md").read_text(encoding="utf-8")
    missing = [v for v in variables if not re.search(rf"\b{v}\b", guide)]
    assert variables and not missing, f"docs/exploitation.md does not explain {missing}"


def test_env_example_documents_every_variable_read_by_settings() -> None:
    read: set[str] = set()
    for module in ("settings.py", "access.py"):
        code = (ROOT / "riposte" / module).read_text()
        read |= set(re.findall(r'"((?:RIPOSTE|TRACKER|ACTION)_[A-Z_]+)"', code))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read and read <= documented, sorted(read - documented)
