"""docs/connaissances.md is the rendering of riposte/knowledge/*.yml, and the rendering is whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from riposte.cli import main
from riposte.cli.knowledge import DEFAULT_OUTPUT, render_knowledge
from riposte.knowledge import KNOWLEDGE_DIR, KnowledgeError

COMMAND = "riposte knowledge export"


def test_the_committed_document_is_the_rendering_of_the_yaml() -> None:
    committed = DEFAULT_OUTPUT.read_text(encoding="utf-8") if DEFAULT_OUTPUT.exists() else ""
    assert (
        committed == render_knowledge()
    ), f"docs/connaissances.md does not follow riposte/knowledge/*.yml: run `{COMMAND}`"


def test_the_command_writes_the_document(tmp_path: Path) -> None:
    output = tmp_path / "connaissances.md"
    assert main(["knowledge", "export", "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render_knowledge()


def test_the_command_prints_the_document_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["knowledge", "export", "--output", "-"]) == 0
    assert capsys.readouterr().out == render_knowledge()


def test_every_entry_and_its_reliability_are_in_the_document() -> None:
    text = render_knowledge()
    for name, section in (
        ("ladder.yml", "ladder"),
        ("offenses.yml", "offenses"),
        ("steps.yml", "steps"),
        ("steps.yml", "letters"),
        ("platforms.yml", "platforms"),
        ("contacts.yml", "contacts"),
        ("sources.yml", "sources"),
    ):
        data = yaml.safe_load((KNOWLEDGE_DIR / name).read_text(encoding="utf-8"))[section]
        for key in data:
            assert f"(`{key}`)" in text, f"{name}: {section}.{key} missing"
    offenses = yaml.safe_load((KNOWLEDGE_DIR / "offenses.yml").read_text(encoding="utf-8"))
    insult = offenses["offenses"]["insult"]
    assert insult["penalty"] in text and insult["texts"][0] in text
    assert "**Fiabilité** : **à vérifier**" in text and "**Fiabilité** : sûr" in text
    assert "**Dernier contrôle** : 24/11/2026" in text  # dates in French, not ISO


def _copy_knowledge(tmp_path: Path) -> Path:
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return directory


def test_a_key_added_to_the_yaml_appears_without_a_code_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the loader accepts a new attribute, the document shows it: no template change."""
    import riposte.cli.knowledge as export

    monkeypatch.setattr(export, "load_from", lambda directory: None)  # the loader's own test
    directory = _copy_knowledge(tmp_path)
    path = directory / "offenses.yml"
    text = path.read_text(encoding="utf-8").replace(
        "    press_offense: true\n",
        '    press_offense: true\n    reviewed_by: "Me Exemple, 01/12/2026"\n',
        1,
    )
    path.write_text(text, encoding="utf-8")
    rendered = render_knowledge(directory)
    assert "- **reviewed_by** : Me Exemple, 01/12/2026" in rendered


def test_an_invalid_knowledge_base_is_not_documented(tmp_path: Path) -> None:
    directory = _copy_knowledge(tmp_path)
    path = directory / "offenses.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("certainty: sur", "certainty: peut-etre", 1),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError):
        render_knowledge(directory)
