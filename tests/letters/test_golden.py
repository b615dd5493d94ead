"""Every letter template, rendered on the sample cases, matches its reviewed golden file.

To update after a deliberate template change: `.venv/bin/python -m tests.letters.regen`, then
review every changed line with `git diff tests/letters/golden` before committing.
"""

from __future__ import annotations

import difflib

import pytest

from riposte.knowledge import LETTER_KINDS
from riposte.letters.build import build_letter
from riposte.letters.output import to_markdown
from tests.letters.samples import GOLDEN, SAMPLES, TODAY, Sample


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_letter_matches_golden(sample: Sample) -> None:
    rendered = to_markdown(build_letter(sample.case_path, sample.kind, TODAY, sample.options))
    golden = sample.golden_path.read_text(encoding="utf-8")
    if rendered != golden:
        diff = "\n".join(
            difflib.unified_diff(
                golden.splitlines(), rendered.splitlines(), "golden", "rendu", lineterm=""
            )
        )
        pytest.fail(
            f"{sample.golden_path.name} differs (regenerate with "
            f"`.venv/bin/python -m tests.letters.regen` and review):\n{diff}"
        )


def test_every_kind_has_at_least_one_golden() -> None:
    assert {sample.kind for sample in SAMPLES} == set(LETTER_KINDS)


def test_samples_cover_named_and_unknown_authors_hospital_and_liberal_open_and_prescribed() -> None:
    procureur = [s.case for s in SAMPLES if s.kind == "procureur"]
    assert "liberal_named_defamation" in procureur  # named author, liberal practice
    assert "hospital_raid_contre_x" in procureur  # contre X, hospital practice
    assert "liberal_expired_mixed" in procureur  # one offence prescribed, one open


def test_no_golden_without_a_sample() -> None:
    expected = {sample.golden_path.name for sample in SAMPLES}
    assert {path.name for path in GOLDEN.glob("*.md")} == expected


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_golden_says_it_is_a_draft_and_never_prints_none(sample: Sample) -> None:
    text = sample.golden_path.read_text(encoding="utf-8")
    assert text.startswith("> **Brouillon à vérifier avant tout envoi.**")
    for leftover in ("None", "True", "False", "{{", "{%", ":::", "\ue000", "\ue001"):
        assert leftover not in text
