"""`riposte case …`, `riposte reminders`, `riposte purge`: exit codes and French messages."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from riposte.cli import main
from riposte.privacy import generate_key_text
from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.store.conftest import FILE_CONTENTS, sample_case, write_case_dir
from tests.store.test_tracker_store import DAY, make_events, senders

RIPOSTE = Path(sys.executable).parent / "riposte"


@pytest.fixture(autouse=True)
def cli_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RIPOSTE_SECRET_KEY", raising=False)
    # `case delete` and `purge` erase conversations there: never the developer's tracker.
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path}/store/tracker.db")
    for name in ("RIPOSTE_API_TOKEN", "RIPOSTE_CORS_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    return env


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "tracker.db"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def import_case(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    status, out, _ = run(["case", "import", str(case_dir / "case.json"), "--json"], capsys)
    assert status == 0
    data = json.loads(out)
    assert set(data) == {"code", "secret"}
    return data["code"], data["secret"]


def test_import_prints_code_and_secret_once(
    case_dir: Path, capsys: pytest.CaptureFixture[str], config: StoreConfig
) -> None:
    status, out, err = run(["case", "import", str(case_dir / "case.json")], capsys)
    assert status == 0, err
    code = re.search(r"^Dossier créé : (RIP-\S+)$", out, re.M)
    secret = re.search(r"^Phrase secrète \(affichée une seule fois.*\) : (\S+)$", out, re.M)
    assert code and secret
    assert "Journal des preuves : 4 élément(s), dont 3 fichier(s) chiffré(s)." in out
    with CaseRepository(config) as repo:
        assert repo.open_case(code.group(1), secret.group(1)).code == code.group(1)


def test_import_then_show_json_equals_the_input_plus_fingerprints(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = import_case(case_dir, capsys)
    status, out, _ = run(["case", "show", code, "--json"], capsys)
    assert status == 0
    expected = sample_case()
    for index, content in enumerate(FILE_CONTENTS):
        expected["evidence"][index]["sha256"] = hashlib.sha256(content).hexdigest()
    assert json.loads(out) == expected


def test_show_text_is_french_and_audited(
    case_dir: Path, capsys: pytest.CaptureFixture[str], config: StoreConfig
) -> None:
    code, _ = import_case(case_dir, capsys)
    status, out, _ = run(["case", "show", code.lower()], capsys)
    assert status == 0
    assert out.startswith(f"Dossier {code}\n")
    assert "Victime : Dr Camille Zorglubin" in out
    assert "Journal des preuves :" in out and "sans fichier" in out
    assert "publié ou envoyé le 01/06/2026" in out and out.count("publié ou envoyé") == 1
    assert hashlib.sha256(FILE_CONTENTS[0]).hexdigest() in out
    assert "☑ Conserver les preuves" in out
    with CaseRepository(config) as repo:
        trail = [(e.actor, e.action) for e in repo.audit_trail(code)]
    assert trail == [("cli", "created"), ("cli", "read")]


def test_bad_json_exits_2_with_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"victim": {', encoding="utf-8")
    status, out, err = run(["case", "import", str(path)], capsys)
    assert status == 2 and out == ""
    assert err.startswith("Erreur dans le dossier :\n- ")
    assert "ligne 1" in err


def test_schema_error_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = sample_case()
    case["victim"]["postal_code"] = "44"
    case["incident"]["platforms"] = ["myspace"]
    path = write_case_dir(tmp_path, case)
    status, _, err = run(["case", "import", str(path)], capsys)
    assert status == 2
    assert "victim.postal_code" in err and "incident.platforms[0]" in err


def test_missing_file_is_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_case_dir(tmp_path)
    (tmp_path / "page-3.pdf").unlink()
    status, _, err = run(["case", "import", str(path)], capsys)
    assert status == 2
    assert "evidence[2].file : fichier introuvable « page-3.pdf »" in err


def test_file_outside_the_json_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    inner = tmp_path / "inner"
    inner.mkdir()
    case = {"evidence": [{"url": "https://e.org/1", "file": "../secret.txt"}]}
    path = write_case_dir(inner, case)
    status, _, err = run(["case", "import", str(path)], capsys)
    assert status == 2
    assert "evidence[0].file" in err and "doit se trouver dans le dossier" in err


def test_declared_fingerprint_mismatch_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = sample_case()
    case["evidence"][1]["sha256"] = "b" * 64
    path = write_case_dir(tmp_path, case)
    status, _, err = run(["case", "import", str(path)], capsys)
    assert status == 2 and "evidence[1].sha256" in err


def test_unknown_code_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for args in (
        ["case", "show", "RIP-0000-00"],
        ["case", "export", "RIP-0000-00", "--bundle", str(tmp_path / "x.zip")],
        ["case", "delete", "RIP-0000-00"],
    ):
        status, _, err = run(args, capsys)
        assert status == 2
        assert err == "Erreur : Dossier inconnu : « RIP-0000-00 ».\n"


def test_export_writes_the_bundle(
    case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = import_case(case_dir, capsys)
    target = tmp_path / "export" / "dossier.zip"
    status, out, _ = run(["case", "export", code, "--bundle", str(target)], capsys)
    assert status == 0
    assert f"Archive écrite : {target} (4 pièce(s), 3 fichier(s))" in out
    assert hashlib.sha256(target.read_bytes()).hexdigest() in out
    assert "données personnelles en clair" in out
    with zipfile.ZipFile(target) as archive:
        assert "bordereau.pdf" in archive.namelist()


def test_unwritable_bundle_exits_1(
    case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = import_case(case_dir, capsys)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    status, _, err = run(["case", "export", code, "--bundle", str(blocker / "x.zip")], capsys)
    assert status == 1
    assert err.startswith("Erreur : impossible d'accéder au fichier")


def test_delete_then_show_fails(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = import_case(case_dir, capsys)
    status, out, _ = run(["case", "delete", code], capsys)
    assert status == 0
    assert out == f"Dossier {code} supprimé : 3 fichier(s) chiffré(s) effacé(s).\n"
    status, _, err = run(["case", "show", code], capsys)
    assert status == 2 and "Dossier inconnu" in err


def link(config: StoreConfig, code: str, sender_id: str) -> None:
    with CaseRepository(config) as repo:
        repo.link_sender(code, "rest", sender_id)


ERASED_ONE = "1 conversation(s) liée(s) effacée(s) du suivi des conversations de Rasa."


def test_delete_erases_the_linked_conversations(
    case_dir: Path, capsys: pytest.CaptureFixture[str], config: StoreConfig, tracker_db: Path
) -> None:
    code, _ = import_case(case_dir, capsys)
    link(config, code, "abc")
    now = time.time()
    make_events(f"sqlite:///{tracker_db}", {"abc": [now - 60, now], "other": [now]})
    status, out, err = run(["case", "delete", code], capsys)
    assert status == 0, err
    assert out.splitlines() == [
        f"Dossier {code} supprimé : 3 fichier(s) chiffré(s) effacé(s).",
        ERASED_ONE,
    ]
    assert senders(tracker_db) == ["other"]


def test_delete_without_a_tracker_database_creates_none(
    case_dir: Path, capsys: pytest.CaptureFixture[str], config: StoreConfig, tracker_db: Path
) -> None:
    code, _ = import_case(case_dir, capsys)
    link(config, code, "abc")
    status, out, err = run(["case", "delete", code], capsys)
    assert status == 0, err
    assert out.splitlines()[-1] == ERASED_ONE
    assert not tracker_db.exists()


def test_delete_with_an_unreachable_tracker_store_exits_1(
    case_dir: Path,
    capsys: pytest.CaptureFixture[str],
    config: StoreConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _ = import_case(case_dir, capsys)
    link(config, code, "abc")
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    status, out, err = run(["case", "delete", code], capsys)
    assert status == 1
    assert out == f"Dossier {code} supprimé : 3 fichier(s) chiffré(s) effacé(s).\n"
    assert err.startswith(
        "Erreur : le suivi des conversations de Rasa (TRACKER_STORE_URL) est inaccessible"
    )
    assert "1 conversation(s) liée(s) aux dossiers supprimés reste(nt)" in err


def test_delete_with_bad_settings_exits_1_before_erasing_anything(
    case_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = import_case(case_dir, capsys)
    monkeypatch.setenv("RIPOSTE_RASA_PORT", "80000")
    status, out, err = run(["case", "delete", code], capsys)
    assert status == 1 and out == ""
    assert err.startswith("Erreur : RIPOSTE_RASA_PORT doit être compris entre 1 et 65535")
    monkeypatch.delenv("RIPOSTE_RASA_PORT")
    status, _, _ = run(["case", "show", code], capsys)
    assert status == 0  # the case is still there


def test_purge_erases_idle_conversations(
    case_dir: Path, capsys: pytest.CaptureFixture[str], tracker_db: Path
) -> None:
    import_case(case_dir, capsys)
    now = time.time()
    make_events(
        f"sqlite:///{tracker_db}",
        {"idle": [now - 60 * DAY, now - 31 * DAY], "recent": [now - 60 * DAY, now - DAY]},
    )
    status, out, err = run(["purge", "--older-than", "30"], capsys)
    assert status == 0, err
    assert out.splitlines() == [
        "0 dossier(s) sans activité depuis plus de 30 jours supprimé(s).",
        "1 conversation(s) sans activité depuis plus de 30 jours effacée(s) du suivi des "
        "conversations de Rasa.",
    ]
    assert senders(tracker_db) == ["recent"]


def test_purge_erases_the_conversations_of_purged_cases(
    case_dir: Path, capsys: pytest.CaptureFixture[str], config: StoreConfig, tracker_db: Path
) -> None:
    code, _ = import_case(case_dir, capsys)
    link(config, code, "abc")
    # Events stamped an hour ahead are not idle even for `--older-than 0`: only the link to
    # the purged case can erase "abc".
    later = time.time() + 3600
    make_events(f"sqlite:///{tracker_db}", {"abc": [later], "other": [later]})
    status, out, err = run(["purge", "--older-than", "0"], capsys)
    assert status == 0, err
    assert out.splitlines() == [
        "1 dossier(s) sans activité depuis plus de 0 jours supprimé(s).",
        ERASED_ONE,
        "0 conversation(s) sans activité depuis plus de 0 jours effacée(s) du suivi des "
        "conversations de Rasa.",
    ]
    assert senders(tracker_db) == ["other"]


def test_reminders_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = {
        "incident": {
            "platforms": ["x"],
            "offenses": ["insult"],
            "first_published": "2026-08-30",
            "public": True,
        }
    }
    path = write_case_dir(tmp_path, case)
    status, out, _ = run(["case", "import", str(path), "--json"], capsys)
    code = json.loads(out)["code"]
    status, out, _ = run(["reminders", "--today", "2026-11-24"], capsys)
    assert status == 0
    assert out.splitlines() == [
        "Délais pour agir expirant d'ici 14 jours (situation au 24/11/2026) :",
        f"- {code} : Injure publique envers un particulier — date limite 30/11/2026 "
        "(6 jour(s) restant(s))",
        "Aucun rappel au médecin en attente ni envoyé depuis 14 jours.",
    ]
    status, out, _ = run(["reminders", "--today", "2026-11-24", "--json"], capsys)
    data = json.loads(out)
    assert data["today"] == "2026-11-24" and data["within_days"] == 14
    assert data["cases"] == [
        {
            "code": code,
            "deadlines": [
                {
                    "offense": "insult",
                    "variant": "base",
                    "label": "Injure publique envers un particulier",
                    "deadline": "2026-11-30",
                    "days_left": 6,
                }
            ],
        }
    ]
    assert data["follow_ups"] == []
    status, out, _ = run(["reminders", "--today", "2026-10-01"], capsys)
    assert out.startswith("Aucun dossier n'a de délai pour agir qui expire d'ici 14 jours")


def test_reminders_list_the_follow_ups_without_personal_data(
    config: StoreConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date

    sender = "7c6b5a4f3e2d41c0b9a8f7e6d5c4b3a2"
    with CaseRepository(config) as repo:
        code, _ = repo.create_case(
            {
                "incident": {
                    "platforms": ["x"],
                    "offenses": ["insult"],
                    "first_published": "2026-11-10",
                }
            },
            today=date(2026, 11, 24),
        )
        repo.link_sender(code, "chat", sender)
        repo.sync_follow_ups(
            code,
            channel="telegram",
            today=date(2026, 11, 24),
            actor="chat",
            conversation=("chat", sender),
        )
    status, out, _ = run(["reminders", "--today", "2026-11-24"], capsys)
    assert status == 0
    assert out.splitlines()[1:] == [
        "Rappels au médecin en attente, et envoyés depuis 14 jours :",
        "- rappel n° 1 (deadline, telegram) : due, prévu le 11/01/2027 09:00",
        "- rappel n° 2 (deadline, telegram) : due, prévu le 27/01/2027 09:00",
        "- rappel n° 3 (deadline, telegram) : due, prévu le 07/02/2027 09:00",
    ]
    status, out, _ = run(["reminders", "--today", "2026-11-24", "--json"], capsys)
    listed = json.loads(out)["follow_ups"]
    assert [(f["id"], f["kind"], f["state"], f["due_at"]) for f in listed] == [
        (1, "deadline", "due", "2027-01-11T08:00:00+00:00"),
        (2, "deadline", "due", "2027-01-27T08:00:00+00:00"),
        (3, "deadline", "due", "2027-02-07T08:00:00+00:00"),
    ]
    assert code not in out and sender not in out


def test_reminders_bad_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["reminders", "--today", "2026-02-30"], capsys)
    assert status == 2 and "--today : date invalide « 2026-02-30 »" in err
    status, _, err = run(["reminders", "--within", "-3"], capsys)
    assert status == 2 and "--within : nombre de jours invalide" in err


def test_purge(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_case(case_dir, capsys)
    status, out, _ = run(["purge"], capsys)
    assert status == 0 and out.startswith("0 dossier(s) sans activité depuis plus de 180 jours")
    status, out, _ = run(["purge", "--older-than", "0"], capsys)
    assert status == 0 and out.startswith("1 dossier(s)")
    status, _, err = run(["purge", "--older-than", "six mois"], capsys)
    assert status == 2 and "--older-than : nombre de jours invalide « six mois »" in err


def test_wrong_key_exits_1_with_a_french_message(
    case_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = import_case(case_dir, capsys)
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", generate_key_text())
    status, out, err = run(["case", "show", code], capsys)
    assert status == 1 and out == ""
    assert err.startswith("Erreur : La clé secrète (identifiant ")
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", "abc")
    status, _, err = run(["case", "show", code], capsys)
    assert status == 1 and "RIPOSTE_SECRET_KEY n'est pas une clé valide" in err


def test_database_problems_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIPOSTE_DATABASE_URL", "pas une url")
    status, _, err = run(["case", "show", "RIP-0000-00"], capsys)
    assert status == 1 and "n'est pas une adresse de base de données valide" in err
    monkeypatch.setenv("RIPOSTE_DATABASE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    status, _, err = run(["reminders"], capsys)
    assert status == 1 and "Base de données inaccessible" in err


def test_case_without_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["case"])
    captured = capsys.readouterr()
    assert status == 2 and "import" in captured.err and "export" in captured.err


def test_console_script_never_prints_a_traceback(env: dict[str, str], tmp_path: Path) -> None:
    if not RIPOSTE.exists():
        pytest.fail("console script not installed")
    full_env = {**os.environ, **env}
    full_env.pop("RIPOSTE_SECRET_KEY", None)
    missing = tmp_path / "absent.json"
    result = subprocess.run(
        [str(RIPOSTE), "case", "import", str(missing)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "absent.json" in result.stderr
