"""No import-time work, the two commands are registered, the system script is sound."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "system-deps.sh"


def test_building_the_command_line_loads_no_heavy_library() -> None:
    code = (
        "import sys, riposte.cli\n"
        "parser = riposte.cli.build_parser()\n"
        "import riposte.letters.build, riposte.letters.output, riposte.letters.reply_check\n"
        "heavy = [m for m in ('weasyprint', 'docx', 'spacy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from riposte.letters import build, environment, reply_check\n"
        "assert build.load_requirements.cache_info().currsize == 0\n"
        "assert environment.get_environment.cache_info().currsize == 0\n"
        "assert reply_check._lexicon.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_letter_and_reply_check_are_registered() -> None:
    import riposte.cli

    assert "riposte.cli.letter" in riposte.cli.COMMAND_MODULES
    assert "riposte.cli.reply_check" in riposte.cli.COMMAND_MODULES
    help_text = riposte.cli.build_parser().format_help()
    assert "letter" in help_text and "reply-check" in help_text


def test_system_deps_script_is_valid_bash_and_lists_the_packages() -> None:
    if shutil.which("bash") is None:  # pragma: no cover
        pytest.fail("bash absent")
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    text = SCRIPT.read_text(encoding="utf-8")
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
        "poppler-utils",
    ):
        assert package in text
    assert "apt-get update" in text and "--no-install-recommends" in text


def test_system_deps_check_mode_reports_in_french() -> None:
    if shutil.which("dpkg") is None:  # pragma: no cover - not a Debian machine
        pytest.fail("dpkg absent")
    result = subprocess.run(
        ["bash", str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 1)
    assert "poppler-utils" in result.stdout
    assert ("Déjà installé" in result.stdout) or ("Manquant" in result.stdout)


def test_every_data_file_of_the_packages_is_package_data() -> None:
    """A YAML, text or JSON file under riposte/ or riposte_rasa/ is installed with the code."""
    import tomli  # pytest's own TOML reader on Python 3.10 (tomllib from 3.11)

    root = Path(__file__).resolve().parents[2]
    config = tomli.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]
    missing = [
        path.relative_to(root).as_posix()
        for package in ("riposte", "riposte_rasa")
        for suffix in ("yml", "txt", "json")
        for path in sorted((root / package).rglob(f"*.{suffix}"))
        if not any(
            path.relative_to(root / package).match(pattern)
            and len(path.relative_to(root / package).parts) == len(Path(pattern).parts)
            for pattern in patterns.get(package, [])
        )
    ]
    assert not missing, missing
