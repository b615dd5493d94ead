"""`riposte letter`: formats, missing fields (exit 2, each field named, no file), refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import riposte.cli
from riposte.letters.build import (
    LetterError,
    LetterOptions,
    build_letter,
    load_requirements,
    missing_fields,
)
from tests.letters.conftest import LoadCase, docx_text, squash
from tests.letters.samples import CASES, SAMPLES, TODAY, Sample

TODAY_ARG = TODAY.isoformat()
# The shared fixtures of the advice engine, read only.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


FIRST_SAMPLE_OF_EACH_KIND = tuple({s.kind: s for s in reversed(SAMPLES)}.values())


def _write(tmp_path: Path, data: dict[str, Any], name: str = "dossier.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = riposte.cli.main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "pdf"])
def test_writes_each_format(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"plainte.{fmt}"
    case = str(CASES / "liberal_named_defamation.json")
    status, _, err = _run(
        [
            "letter",
            case,
            "--kind",
            "procureur",
            "--format",
            fmt,
            "--out",
            str(out),
            "--today",
            TODAY_ARG,
        ],
        capsys,
    )
    assert status == 0, err
    assert out.stat().st_size > 1000
    assert "Courrier écrit" in err and "brouillon" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


def test_format_is_guessed_from_the_extension(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plainte.docx"
    case = str(CASES / "hospital_raid_contre_x.json")
    status, _, _ = _run(
        ["letter", case, "--kind", "procureur", "--out", str(out), "--today", TODAY_ARG], capsys
    )
    assert status == 0
    assert "Tribunal judiciaire de Lille" in docx_text(out)


def test_markdown_goes_to_stdout_without_out(capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES / "liberal_named_defamation.json")
    status, out, _ = _run(["letter", case, "--kind", "formal_notice", "--today", TODAY_ARG], capsys)
    assert status == 0
    assert out.startswith("> **Brouillon à vérifier avant tout envoi.**")
    assert "**Objet :** demande de retrait de propos me concernant" in squash(out)


def test_binary_format_needs_out(capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES / "liberal_named_defamation.json")
    status, _, err = _run(["letter", case, "--kind", "procureur", "--format", "pdf"], capsys)
    assert status == 2
    assert "--out" in err


def test_missing_fields_are_each_named_and_no_file_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], load_sample: LoadCase
) -> None:
    data = load_sample("liberal_named_defamation")
    for key in ("first_name", "address", "postal_code", "city"):
        del data["victim"][key]
    data["victim"]["last_name"] = "   "
    del data["incident"]["summary"]
    data["evidence"][1]["excerpt"] = ""
    out = tmp_path / "plainte.pdf"
    status, stdout, err = _run(
        [
            "letter",
            str(_write(tmp_path, data)),
            "--kind",
            "procureur",
            "--out",
            str(out),
            "--today",
            TODAY_ARG,
        ],
        capsys,
    )
    assert status == 2
    assert stdout == ""
    assert "Il manque des informations dans le dossier" in err
    for path in (
        "victim.first_name",
        "victim.last_name",
        "victim.address",
        "victim.postal_code",
        "victim.city",
        "incident.summary",
        "evidence[1].excerpt",
    ):
        assert f"- {path} : " in err, path
    assert "evidence[0].excerpt" not in err
    assert "Aucun fichier n'a été écrit" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dossier.json"]


def test_missing_incident_names_every_incident_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], load_sample: LoadCase
) -> None:
    data = load_sample("liberal_named_defamation")
    del data["incident"]
    del data["evidence"]
    status, _, err = _run(
        ["letter", str(_write(tmp_path, data)), "--kind", "procureur", "--today", TODAY_ARG],
        capsys,
    )
    assert status == 2
    # No incident: no offence either, which the complaint checks first.
    assert "Aucune infraction n'est retenue" in err


@pytest.mark.parametrize("sample", FIRST_SAMPLE_OF_EACH_KIND, ids=lambda s: s.kind)
def test_every_kind_lists_its_missing_fields_on_an_empty_victim(sample: Sample) -> None:
    data = json.loads(sample.case_path.read_text(encoding="utf-8"))
    data["victim"] = {"practice": data["victim"]["practice"]}
    with pytest.raises(LetterError) as caught:
        build_letter(data, sample.kind, TODAY, sample.options)
    requirement = load_requirements().kinds[sample.kind]
    expected = [f for f in requirement.fields if f.startswith("victim.")]
    assert expected
    assert caught.value.errors == tuple(
        error for error in caught.value.errors if error.split(" : ")[0] in expected
    )
    for field in expected:
        assert any(error.startswith(f"{field} : ") for error in caught.value.errors), field
    assert caught.value.header is not None and caught.value.footer is not None


def test_reply_text_is_required_for_the_right_of_reply(load_sample: LoadCase) -> None:
    with pytest.raises(LetterError) as caught:
        build_letter(CASES / "liberal_named_defamation.json", "right_of_reply", TODAY)
    assert any("--reply-file" in error for error in caught.value.errors)


def test_reply_file_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Ma réponse factuelle."))
    case = str(CASES / "liberal_named_defamation.json")
    status, out, err = _run(
        ["letter", case, "--kind", "right_of_reply", "--reply-file", "-", "--today", TODAY_ARG],
        capsys,
    )
    assert status == 0, err
    assert "> Ma réponse factuelle." in out


def test_prescribed_press_offence_is_refused_with_an_explanation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], load_sample: LoadCase
) -> None:
    out = tmp_path / "plainte.pdf"
    status, _, err = _run(
        [
            "letter",
            str(FIXTURES / "defamation_expired.json"),
            "--kind",
            "procureur",
            "--out",
            str(out),
            "--today",
            TODAY_ARG,
        ],
        capsys,
    )
    assert status == 2
    assert "le délai de prescription est écoulé" in err
    expired = "Diffamation publique envers un particulier : le délai de prescription a expiré"
    assert f"{expired} le 10/08/2026" in err
    assert "erasure_request" in err  # what remains possible
    assert not out.exists()


def test_prescribed_press_offence_with_open_harassment_keeps_only_the_open_one() -> None:
    document = build_letter(CASES / "liberal_expired_mixed.json", "procureur", TODAY)
    assert "harcèlement moral en ligne" in document.title
    assert "diffamation" not in document.title
    assert "Faits prescrits écartés" in document.section_text("draft")


def test_refusals_follow_the_advice(load_sample: LoadCase) -> None:
    lawful = FIXTURES / "lawful_review.json"
    with pytest.raises(LetterError, match="Aucune infraction"):
        build_letter(lawful, "procureur", TODAY)
    colleague = load_sample("liberal_named_defamation")
    colleague["incident"]["author"]["relation"] = "colleague"
    with pytest.raises(LetterError, match="confrère"):
        build_letter(colleague, "formal_notice", TODAY)
    with pytest.raises(LetterError, match="menaces"):
        build_letter(CASES / "doxxing_danger.json", "formal_notice", TODAY)
    with pytest.raises(LetterError, match="secteur public"):
        build_letter(CASES / "liberal_named_defamation.json", "functional_protection", TODAY)
    with pytest.raises(LetterError, match="demandé l'effacement"):
        build_letter(CASES / "liberal_named_defamation.json", "cnil_complaint", TODAY)
    with pytest.raises(LetterError, match="répondre directement"):
        build_letter(
            CASES / "hospital_raid_contre_x.json",
            "right_of_reply",
            TODAY,
            LetterOptions(reply_text="Réponse."),
        )
    with pytest.raises(LetterError, match="messagerie privée"):
        build_letter(CASES / "private_outrage.json", "erasure_request", TODAY)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        # The case does not say whether the author is identified: the advice does not list
        # « Demander à l'auteur de retirer ses propos », so the formal notice is refused too.
        (lambda incident: incident["author"].pop("known"), "pas identifié"),
        # Malicious messages: the advice never has the doctor contact their author.
        (lambda incident: incident["offenses"].append("malicious_messages"), "Ne contactez pas"),
    ],
    ids=["author-known-unset", "malicious-messages"],
)
def test_formal_notice_follows_the_advice_on_contacting_the_author(
    load_sample: LoadCase, change: Any, refusal: str
) -> None:
    from riposte.advice.engine import advise
    from riposte.case import load_case

    data = load_sample("liberal_named_defamation")
    assert "contact_author" in advise(load_case(data, today=TODAY), TODAY).step_keys()
    build_letter(data, "formal_notice", TODAY)  # the advice lists the step: the letter is written
    change(data["incident"])
    assert "contact_author" not in advise(load_case(data, today=TODAY), TODAY).step_keys()
    with pytest.raises(LetterError, match=refusal):
        build_letter(data, "formal_notice", TODAY)


def test_right_of_reply_after_three_months_is_refused() -> None:
    with pytest.raises(LetterError, match="au plus tard le 20/01/2027"):
        build_letter(
            CASES / "liberal_named_defamation.json",
            "right_of_reply",
            TODAY.replace(year=2027, month=2),
            LetterOptions(reply_text="Réponse."),
        )


def test_right_of_reply_runs_from_the_latest_dated_statement(load_sample: LoadCase) -> None:
    """Art. 13 of the 1881 law: three months from each publication, so a later statement
    keeps the reply open (and its letter gives that statement's deadline)."""
    data = load_sample("liberal_named_defamation")
    first = data["incident"]["first_published"]
    data["evidence"] = [
        {**item, "published_at": first} for item in data.get("evidence") or [{"excerpt": "x"}]
    ]
    data["evidence"].append(
        {"url": "https://e.org/2", "excerpt": "« encore »", "published_at": "2026-12-20"}
    )
    later = TODAY.replace(year=2027, month=2)
    document = build_letter(data, "right_of_reply", later, LetterOptions(reply_text="Réponse."))
    assert "au plus tard le 20 mars 2027" in document.section_text("draft")


def test_several_platforms_need_a_choice(load_sample: LoadCase) -> None:
    data = load_sample("hospital_raid_contre_x")
    data["incident"]["platforms"] = ["x", "facebook"]
    with pytest.raises(LetterError, match="--platform"):
        build_letter(data, "platform_notice", TODAY)
    with pytest.raises(LetterError, match="ne figure pas"):
        build_letter(data, "platform_notice", TODAY, LetterOptions(platform="tiktok"))
    document = build_letter(data, "platform_notice", TODAY, LetterOptions(platform="facebook"))
    assert document.section_text("recipient").startswith("Facebook")
    assert "Plusieurs plateformes" in document.section_text("draft")


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path / "var"))
    for name in ("RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR", "RIPOSTE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "var"


def _stored(name: str) -> str:
    from riposte.store.repository import CaseRepository

    data = json.loads((CASES / name).read_text(encoding="utf-8"))
    for item in data.get("evidence") or []:
        item.pop("file", None)
        item.pop("sha256", None)
    with CaseRepository.from_env() as repo:
        return repo.create_case(data, actor="test", today=TODAY).code


def test_letter_from_a_stored_case_is_written_and_recorded(
    store_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from riposte.store.repository import CaseRepository

    code = _stored("liberal_named_defamation.json")
    status, out, err = _run(
        ["letter", "--case", code.lower(), "--kind", "procureur", "--today", TODAY_ARG], capsys
    )
    assert status == 0, err
    case = json.loads((CASES / "liberal_named_defamation.json").read_text(encoding="utf-8"))
    assert case["victim"]["last_name"] in out
    assert "procureur de la République" in out.lower().replace("république", "République")
    target = tmp_path / "plainte.pdf"
    status, _, err = _run(
        [
            "letter",
            "--case",
            code,
            "--kind",
            "procureur",
            "--out",
            str(target),
            "--today",
            TODAY.isoformat(),
        ],
        capsys,
    )
    assert status == 0, err
    with CaseRepository.from_env() as repo:
        letters = repo.read_case(code).letters
        assert [(x.kind, x.media_type) for x in letters] == [
            ("procureur", "text/markdown"),
            ("procureur", "application/pdf"),
        ]
        assert repo.letter_content(code, 2) == target.read_bytes()
        assert repo.letter_content(code, 1) == out.encode("utf-8")


def test_stored_case_errors_exit_2_and_record_nothing(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from riposte.store.repository import CaseRepository

    status, _, err = _run(["letter", "--case", "RIP-0000-00", "--kind", "procureur"], capsys)
    assert status == 2 and "RIP-0000-00" in err
    with CaseRepository.from_env() as repo:
        code = repo.create_case({"incident": {"platforms": ["x"], "offenses": ["insult"]}}).code
    status, out, err = _run(["letter", "--case", code, "--kind", "procureur"], capsys)
    assert status == 2 and out == ""
    assert "victim" in err  # each missing field is named
    with CaseRepository.from_env() as repo:
        assert repo.read_case(code).letters == ()


def test_case_file_and_case_code_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES / "liberal_named_defamation.json")
    status, _, err = _run(["letter", case, "--case", "X", "--kind", "procureur"], capsys)
    assert status == 2 and "pas les deux" in err
    status, _, err = _run(["letter", "--kind", "procureur"], capsys)
    assert status == 2 and "Indiquez le dossier" in err


def test_bad_inputs_exit_2_in_french(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CASES / "liberal_named_defamation.json")
    status, _, err = _run(["letter", case, "--kind", "procureur", "--today", "24/11/2026"], capsys)
    assert status == 2 and "Date du jour invalide" in err
    status, _, err = _run(
        ["letter", case, "--kind", "procureur", "--out", str(tmp_path / "x.odt")], capsys
    )
    assert status == 2 and "précisez --format" in err
    status, _, err = _run(
        ["letter", case, "--kind", "procureur", "--out", str(tmp_path / "absent" / "x.md")],
        capsys,
    )
    assert status == 2 and "n'existe pas" in err
    status, _, err = _run(["letter", str(tmp_path / "absent.json"), "--kind", "procureur"], capsys)
    assert status == 2 and "absent.json" in err
    with pytest.raises(SystemExit) as caught:
        riposte.cli.main(["letter", case, "--kind", "lettre_inconnue"])
    assert caught.value.code == 2


def test_missing_field_paths_expand_each_evidence_item() -> None:
    data = {"victim": {"first_name": ""}, "evidence": [{"url": "u"}, {}, {"url": " "}]}
    paths = ("victim.first_name", "victim.city", "incident.summary", "evidence", "evidence[*].url")
    assert missing_fields(data, paths) == [
        "victim.first_name",
        "victim.city",
        "incident.summary",
        "evidence[1].url",
        "evidence[2].url",
    ]
    assert missing_fields({"evidence": []}, ("evidence", "evidence[*].url")) == ["evidence"]


def test_console_script_runs(tmp_path: Path) -> None:
    riposte = Path(sys.executable).parent / "riposte"
    out = tmp_path / "notification.md"
    result = subprocess.run(
        [
            str(riposte),
            "letter",
            str(CASES / "doxxing_danger.json"),
            "--kind",
            "platform_notice",
            "--out",
            str(out),
            "--today",
            TODAY_ARG,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Je déclare de bonne foi" in out.read_text(encoding="utf-8")
