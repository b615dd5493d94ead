"""The repository stays true to what the README and the style guide promise."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _readme_paths() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    candidates = set(re.findall(r"`([A-Za-z0-9_.\-/]+)`", readme))
    block = re.search(r"## Organisation du dépôt\n+```\n(.*?)```", readme, re.S)
    assert block, "README lost its layout section"
    for line in block.group(1).splitlines():
        candidates.update(w for w in line.split() if "/" in w or "." in w)
    # Keep what looks like a path in this repository (not commands, URLs or variables).
    return {
        c.strip("()").rstrip("/")
        for c in candidates
        if ("/" in c or re.search(r"\.(ya?ml|toml|in|lock|md|py|sh|example|json)$", c))
        and not c.startswith(("http", "/", "--", "../"))
        and "…" not in c
        and "*" not in c
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
    "var/understanding-eval.json",  # written by `make eval-understanding`
)


def _bare_name_exists(name: str) -> bool:
    """A bare file name (« ladder.yml ») named in a paragraph about its folder."""
    if "/" in name:
        return False
    return any(".venv" not in p.parts for p in ROOT.glob(f"riposte/**/{name}"))


def test_every_path_named_in_the_readme_exists() -> None:
    paths = _readme_paths() - set(RUNTIME_PATHS)
    assert "riposte/cli/serve.py" in paths and ".ci/run" in paths  # the parser still works
    missing = sorted(p for p in paths if not (ROOT / p).exists() and not _bare_name_exists(p))
    assert not missing, f"README names paths that do not exist: {missing}"


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


def test_env_example_documents_every_variable_read_by_settings() -> None:
    read: set[str] = set()
    for module in ("settings.py", "access.py"):
        code = (ROOT / "riposte" / module).read_text()
        read |= set(re.findall(r'"((?:RIPOSTE|TRACKER|ACTION)_[A-Z_]+)"', code))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read and read <= documented, sorted(read - documented)
