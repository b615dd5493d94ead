"""The repository: round trips, updates, the evidence journal, steps, letters, deadlines."""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import date, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from riposte.case import CaseError
from riposte.store.config import StoreConfig
from riposte.store.errors import StoreConfigError, UnknownCaseError
from riposte.store.repository import CaseRepository, merge_patch
from tests.store.conftest import (
    FILE_CONTENTS,
    START,
    TODAY,
    FakeClock,
    sample_case,
    sample_files,
)


def expected_show(case: dict) -> dict:
    """The input plus the SHA-256 of each evidence file."""
    expected = copy.deepcopy(case)
    for index, content in sample_files().items():
        expected["evidence"][index]["sha256"] = hashlib.sha256(content).hexdigest()
    return expected


def test_nothing_is_created_before_first_use(tmp_path: Path) -> None:
    config = StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(tmp_path / "store")})
    repo = CaseRepository(config)
    assert not (tmp_path / "store").exists()
    repo.cases_with_deadlines(TODAY)
    assert (tmp_path / "store" / "riposte.db").is_file()
    repo.close()


def test_round_trip_create_then_read_equals_the_input_plus_fingerprints(
    repo: CaseRepository,
) -> None:
    code, secret = repo.create_case(sample_case(), files=sample_files())
    record = repo.read_case(code)
    assert record.to_dict() == expected_show(sample_case())
    assert repo.open_case(code, secret).to_dict() == expected_show(sample_case())


def test_round_trip_keeps_new_fields_of_the_case_format(repo: CaseRepository) -> None:
    """A field added to the format later (here `wants_reply`, if the schema has it) survives."""
    case = sample_case()
    case["incident"]["wants_reply"] = True
    code, _ = repo.create_case(case)
    assert repo.read_case(code).to_dict()["incident"]["wants_reply"] is True


def test_minimal_case_round_trips(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    assert repo.read_case(code).to_dict() == {}


def test_codes_are_random_and_secrets_differ(repo: CaseRepository) -> None:
    created = [repo.create_case({}) for _ in range(4)]
    codes = [c.code for c in created]
    assert len(set(codes)) == 4 and len({c.secret for c in created}) == 4
    for code in codes:
        assert re.fullmatch(r"RIP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}", code)
    assert "RIP-0000-01" not in codes and "RIP-0000-02" not in codes


def test_evidence_journal_has_utc_timestamps_and_sizes(
    repo: CaseRepository, clock: FakeClock
) -> None:
    code, _ = repo.create_case(sample_case(), files=sample_files())
    record = repo.read_case(code)
    assert [e.number for e in record.evidence] == [1, 2, 3, 4]
    for ev in record.evidence:
        assert ev.recorded_at == START and ev.recorded_at.tzinfo == timezone.utc
    assert [e.file_size for e in record.evidence] == [len(c) for c in FILE_CONTENTS] + [None]
    for number, content in enumerate(FILE_CONTENTS, start=1):
        assert repo.evidence_content(code, number) == content
    assert repo.evidence_content(code, 4) is None


def test_declared_fingerprint_must_match_the_file(repo: CaseRepository) -> None:
    case = sample_case()
    case["evidence"][0]["sha256"] = "0" * 64
    with pytest.raises(CaseError) as caught:
        repo.create_case(case, files=sample_files())
    assert "evidence[0].sha256" in str(caught.value)
    assert "ne correspond pas" in str(caught.value)


def test_matching_declared_fingerprint_is_accepted(repo: CaseRepository) -> None:
    case = sample_case()
    case["evidence"][0]["sha256"] = hashlib.sha256(FILE_CONTENTS[0]).hexdigest().upper()
    code, _ = repo.create_case(case, files=sample_files())
    assert repo.read_case(code).to_dict() == expected_show(sample_case())


def test_invalid_case_is_refused_with_the_field_named(repo: CaseRepository) -> None:
    with pytest.raises(CaseError) as caught:
        repo.create_case({"victim": {"postal_code": "ABC"}})
    assert "victim.postal_code" in str(caught.value)


def test_add_evidence_appends_to_the_journal(repo: CaseRepository, clock: FakeClock) -> None:
    code, _ = repo.create_case(sample_case(), files=sample_files())
    clock.advance(hours=2)
    data = b"new screenshot bytes"
    ev = repo.add_evidence(
        code, {"url": "https://example.org/avis/9", "file": "avis.png"}, data, actor="test"
    )
    assert ev.number == 5
    assert ev.recorded_at == START + timedelta(hours=2)
    assert ev.item.sha256 == hashlib.sha256(data).hexdigest()
    assert repo.evidence_content(code, 5) == data
    shown = repo.read_case(code).to_dict()["evidence"][-1]
    assert shown == {
        "url": "https://example.org/avis/9",
        "file": "avis.png",
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def test_add_evidence_without_file(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    ev = repo.add_evidence(code, {"url": "https://example.org/1", "excerpt": "texte"}, actor="cli")
    assert ev.number == 1 and ev.file_size is None and ev.item.sha256 is None


def test_update_case_is_a_merge_patch_validated_by_the_schema(
    repo: CaseRepository, clock: FakeClock
) -> None:
    code, _ = repo.create_case(sample_case(), files=sample_files())
    clock.advance(days=1)
    record = repo.update_case(
        code,
        {"victim": {"phone": None, "city": "Rennes"}, "incident": {"volume": "raid"}},
        actor="cli",
    )
    data = record.to_dict()
    assert "phone" not in data["victim"] and data["victim"]["city"] == "Rennes"
    assert data["victim"]["last_name"] == "Zorglubin"
    assert data["incident"]["volume"] == "raid"
    assert data["incident"]["author"]["name"] == "Gaspard Malvoisin"
    assert len(data["evidence"]) == 4
    assert record.updated_at == START + timedelta(days=1)
    with pytest.raises(CaseError) as caught:
        repo.update_case(code, {"incident": {"volume": "enormous"}}, actor="cli")
    assert "incident.volume" in str(caught.value)
    assert repo.read_case(code).to_dict()["incident"]["volume"] == "raid"


def test_update_case_can_remove_the_incident(repo: CaseRepository) -> None:
    code, _ = repo.create_case(sample_case())
    assert "incident" not in repo.update_case(code, {"incident": None}, actor="cli").to_dict()


def test_update_case_refuses_evidence(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    with pytest.raises(CaseError) as caught:
        repo.update_case(code, {"evidence": []}, actor="cli")
    assert "evidence" in str(caught.value)


def test_update_steps_done_replaces_the_list_and_keeps_dates(
    repo: CaseRepository, clock: FakeClock
) -> None:
    code, _ = repo.create_case(sample_case())
    clock.advance(days=3)
    record = repo.update_case(
        code, {"steps_done": ["preserve_evidence", "pharos_report"]}, actor="cli"
    )
    assert record.to_dict()["steps_done"] == ["preserve_evidence", "pharos_report"]
    steps = {s.key: s for s in record.steps}
    assert steps["preserve_evidence"].done_on == TODAY
    assert steps["pharos_report"].done_on == TODAY + timedelta(days=3)
    assert steps["block_authors"].done is False and steps["block_authors"].done_on is None


def test_a_step_done_earlier_keeps_the_day_it_was_done(
    repo: CaseRepository, clock: FakeClock
) -> None:
    """An erasure request sent before it was told (the CNIL complaint counts a month from it)."""
    code, _ = repo.create_case(sample_case())
    earlier = TODAY - timedelta(days=40)
    steps = ["preserve_evidence", "block_authors", "erasure_request"]
    record = repo.update_case(
        code, {"steps_done": steps}, actor="cli", done_on={"erasure_request": earlier}
    )
    days = {s.key: s.done_on for s in record.steps}
    assert days["erasure_request"] == earlier and days["preserve_evidence"] == TODAY
    # Told again with another day: the day is corrected, the step stays done.
    later = earlier + timedelta(days=1)
    record = repo.update_case(
        code, {"steps_done": steps}, actor="cli", done_on={"erasure_request": later}
    )
    assert {s.key: s.done_on for s in record.steps}["erasure_request"] == later


def test_record_letter_keeps_fingerprint_and_sealed_content(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    content = b"%PDF letter to the prosecutor"
    letter = repo.record_letter(
        code, "procureur", content, media_type="application/pdf", actor="cli"
    )
    assert letter.sha256 == hashlib.sha256(content).hexdigest() and letter.size == len(content)
    assert repo.letter_content(code, letter.number) == content
    bare = repo.record_letter(code, "platform_notice", actor="cli")
    assert repo.letter_content(code, bare.number) is None
    assert (letter.number, bare.number) == (1, 2)
    assert [x.kind for x in repo.read_case(code).letters] == ["procureur", "platform_notice"]
    with pytest.raises(CaseError):
        repo.record_letter(code, "../etc/passwd", actor="cli")


def test_unknown_code_raises_a_french_error(repo: CaseRepository) -> None:
    repo.create_case({})
    with pytest.raises(UnknownCaseError) as caught:
        repo.read_case("RIP-0000-00")
    assert str(caught.value) == "Dossier inconnu : « RIP-0000-00 »."
    with pytest.raises(UnknownCaseError):
        repo.read_case("n'importe quoi")


def test_codes_are_found_however_they_are_typed(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert repo.read_case(typed).code == code


def test_audit_trail_records_actions_without_personal_data(repo: CaseRepository) -> None:
    code, secret = repo.create_case(sample_case(), files=sample_files(), actor="cli")
    repo.open_case(code, secret, actor="chat")
    repo.link_sender(code, "chat", "sender-1")
    repo.read_case(code, actor="cli")
    repo.update_case(
        code, {"steps_done": ["pharos_report"]}, actor="chat", conversation=("chat", "sender-1")
    )
    trail = repo.audit_trail(code)
    assert [(e.actor, e.action) for e in trail] == [
        ("cli", "created"),
        ("chat", "opened"),
        ("chat", "sender_linked"),
        ("cli", "read"),
        ("chat", "updated"),
    ]
    assert trail[0].detail == {"evidence": 4, "files": 3}
    assert "Zorglubin" not in repr(trail) and secret not in repr(trail)


def test_link_sender_is_idempotent_and_pseudonymous(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    first = repo.link_sender(code, "telegram", "123456789")
    assert first == repo.link_sender(code, "telegram", "123456789")
    assert first != repo.link_sender(code, "signal", "123456789")
    assert first == repo.pseudonymise("telegram", "123456789")
    assert "123456789" not in first and len(first) == 32


def test_merge_patch_follows_rfc_7386() -> None:
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}


# --------------------------------------------------------------------------- deadlines


def _case_published(first_published: str, offenses: list[str]) -> dict:
    return {
        "incident": {
            "platforms": ["x"],
            "offenses": offenses,
            "first_published": first_published,
            "public": True,
            "volume": "single",
        }
    }


def test_cases_with_deadlines_within_14_days(repo: CaseRepository) -> None:
    # Public insult: 3 months from publication.
    soon, _ = repo.create_case(_case_published("2026-08-30", ["insult"]))  # 30/11: 6 days
    edge, _ = repo.create_case(_case_published("2026-09-08", ["insult"]))  # 08/12: 14 days
    later, _ = repo.create_case(_case_published("2026-09-09", ["insult"]))  # 09/12: 15 days
    expired, _ = repo.create_case(_case_published("2026-08-01", ["insult"]))  # 01/11: past
    repo.create_case({})  # no incident
    found = repo.cases_with_deadlines(TODAY)
    assert [c.code for c in found] == [soon, edge]
    first = found[0].deadlines[0]
    assert (first.offense, first.deadline, first.days_left) == ("insult", date(2026, 11, 30), 6)
    assert found[1].deadlines[0].days_left == 14
    assert [c.code for c in repo.cases_with_deadlines(TODAY, within_days=15)] == [
        soon,
        edge,
        later,
    ]
    assert expired not in {c.code for c in repo.cases_with_deadlines(TODAY, within_days=400)}


def test_deadlines_use_clear_facts_only(repo: CaseRepository) -> None:
    """Deadlines are computed without decrypting: they work even if the details are garbage."""
    case = _case_published("2026-08-30", ["insult"])
    case["incident"]["summary"] = "secret"
    code, _ = repo.create_case(case)
    with repo._ready().engine.begin() as connection:
        connection.execute(text("UPDATE incidents SET details = :d"), {"d": b"garbage"})
    assert [c.code for c in repo.cases_with_deadlines(TODAY)] == [code]
    with pytest.raises(StoreConfigError):
        repo.read_case(code)


def test_failed_transactions_leave_no_orphan_files(
    repo: CaseRepository, config: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = repo.create_case(sample_case(), files=sample_files())
    before = sorted(p for p in config.data_dir.rglob("*") if p.is_file())

    def failing_audit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(repo, "_audit", failing_audit)
    with pytest.raises(RuntimeError):
        repo.add_evidence(code, {"url": "https://e.org/1"}, b"bytes", actor="cli")
    with pytest.raises(RuntimeError):
        repo.record_letter(code, "procureur", b"letter", actor="cli")
    with pytest.raises(RuntimeError):
        repo.create_case(sample_case(), files=sample_files())
    assert sorted(p for p in config.data_dir.rglob("*") if p.is_file()) == before
    monkeypatch.undo()
    assert len(repo.read_case(code).evidence) == 4 and repo.read_case(code).letters == ()


def test_a_file_is_attached_once_to_an_existing_item(repo: CaseRepository) -> None:
    import hashlib

    from riposte.case import CaseError

    new = repo.create_case({"incident": {"platforms": ["x"], "offenses": ["insult"]}})
    repo.add_evidence(
        new.code, {"url": "https://x.com/a/status/1", "excerpt": "escroc"}, actor="cli"
    )
    data = b"\x89PNG\r\n\x1a\n screenshot"
    record = repo.attach_evidence_file(new.code, 1, data, "piece-1.png", actor="cli")
    assert record.item.sha256 == hashlib.sha256(data).hexdigest()
    assert record.item.file == "piece-1.png" and record.item.excerpt == "escroc"
    assert repo.evidence_content(new.code, 1) == data
    with pytest.raises(CaseError, match="ne se remplace pas"):
        repo.attach_evidence_file(new.code, 1, b"other", "piece-1.png", actor="cli")
    with pytest.raises(CaseError, match="introuvable"):
        repo.attach_evidence_file(new.code, 2, data, "piece-2.png", actor="cli")
    assert repo.evidence_content(new.code, 1) == data
    assert [e.action for e in repo.audit_trail(new.code)][-1] == "evidence_file_added"
