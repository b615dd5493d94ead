"""The case file through the real stack: recorded as the doctor speaks, resumed from another
sender with the code and the secret, kept across a crash of every process, erased on request.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devtools.waiting import wait_until
from riposte.store.config import StoreConfig
from riposte.store.errors import UnknownCaseError
from riposte.store.repository import CaseRepository
from tests.integration.conftest import Stack, start_stack, wait_ready

CREATED = re.compile(
    r"Code du dossier : \*\*(RIP-[0-9A-Z]{4}-[0-9A-Z]{2})\*\*.*?"
    r"Phrase secrète : \*\*([a-z-]+)\*\*",
    re.S,
)
HANDLE = "@zorglub_vindicatif"
OPEN_CASE = "/open_case"  # the offer's button « Ouvrir un dossier »


ANSWERS = {
    "author_relation": ("c'est un patient", "patient"),
    "volume": ("une seule fois", "single"),
    "practice": ("je travaille à l'hôpital", "hospital"),
}


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def repository(stack: Stack) -> CaseRepository:
    return CaseRepository(StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(stack.var_dir)}))


def start_case(bot: Stack, sender: str) -> tuple[str, str]:
    """Describe a situation, then say yes to the case file (« ouvrir un dossier »)."""
    replies = bot.say(
        sender,
        f"Depuis le 2 novembre le compte {HANDLE} me traite d'escroc sur X tous les jours",
    )
    assert not CREATED.search(texts(replies)), texts(replies)  # facts alone open no case
    replies = bot.say(sender, OPEN_CASE)
    found = CREATED.search(texts(replies))
    assert found, texts(replies)
    return found.group(1), found.group(2)


def events_of(stack: Stack, sender: str) -> int:
    with sqlite3.connect(stack.var_dir / "tracker.db") as db:
        query = "SELECT count(*) FROM events WHERE sender_id = ?"
        return int(db.execute(query, (stack.pseudonym(sender),)).fetchone()[0])


def test_a_case_resumes_on_another_sender_only_with_the_right_secret(bot: Stack) -> None:
    code, secret = start_case(bot, "case-a")
    assert bot.slots("case-a")["case_code"] == code

    replies = bot.say("case-b", "reprendre mon dossier")
    assert "phrase secrète" in texts(replies)
    wrong = "-".join(reversed(secret.split("-")))
    replies = bot.say("case-b", f"{code} {wrong.replace('-', ' ')}")
    assert "ne correspondent à aucun dossier" in texts(replies)
    assert bot.slots("case-b")["case_code"] is None
    assert bot.slots("case-b")["platforms"] is None

    replies = bot.say("case-b", f"code {code.lower()}, phrase {secret.replace('-', ' ')}")
    answer = texts(replies)
    assert f"Dossier **{code}** retrouvé" in answer
    assert bot.slots("case-b")["resume_credentials"] is None  # the secret is not kept
    # Nor anywhere in the conversations kept (shown to A once, typed by B): masked on save.
    for sender in ("case-a", "case-b"):
        kept = json.dumps(bot.tracker(sender), ensure_ascii=False).lower()
        assert secret not in kept and secret.replace("-", " ") not in kept
        assert "phrase secrète masquée" in kept or "[…]" in kept
    assert "il vous reste" in answer and "pour agir en justice" in answer
    slots = bot.slots("case-b")
    assert slots["case_code"] == code
    assert slots["platforms"] == ["x"]
    assert slots["first_published"] == "2026-11-02" or slots["first_published"].endswith("-11-02")

    # The triage goes on where sender A left it; what B answers goes to A's case.
    assert slots["requested_slot"] in ANSWERS, slots
    answered = answer_all_questions(bot, "case-b")
    assert answered >= {"author_relation", "practice"}
    with repository(bot) as repo:
        case = repo.open_case(code, secret).to_dict()
    assert case["incident"]["author"]["relation"] == "patient"
    assert case["victim"]["practice"] == "hospital"
    assert bot.slots("case-a")["practice"] is None  # A's conversation itself is untouched


def answer_all_questions(bot: Stack, sender: str) -> set[str]:
    """Answer each remaining triage question; returns the slots asked."""
    asked: set[str] = set()
    for _ in range(len(ANSWERS) + 1):
        requested = bot.slots(sender)["requested_slot"]
        if requested is None:
            return asked
        asked.add(requested)
        bot.say(sender, ANSWERS[requested][0])
    raise AssertionError(f"the triage does not end: {bot.slots(sender)}")


def buttons(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def test_the_case_is_offered_when_it_serves_and_opened_only_on_a_yes(bot: Stack) -> None:
    """Facts and advice without a case; the offer in the deadline's message; a no keeps the
    advice working; a letter offers it again, and its yes opens it and starts the letter."""
    sender = "consent"
    advice = bot.say(sender, f"Depuis le 2 novembre le compte {HANDLE} me traite d'escroc sur X")
    while bot.slots(sender)["requested_slot"] is not None and len(advice) < 40:
        advice += bot.say(sender, ANSWERS[bot.slots(sender)["requested_slot"]][0])
    assert not CREATED.search(texts(advice)), texts(advice)
    offer = [r for r in advice if "/open_case" in buttons([r])]
    assert len(offer) == 1 and "délai" in offer[0]["text"], texts(advice)
    assert buttons(offer) == ["/open_case", "/decline_case"]
    assert bot.slots(sender)["case_code"] is None

    replies = bot.say(sender, "/decline_case")
    assert "je n'ouvre pas de dossier" in texts(replies), texts(replies)
    replies = bot.say(sender, "mes délais")
    assert "jusqu'au" in texts(replies), texts(replies)
    assert bot.slots(sender)["case_code"] is None

    replies = bot.say(sender, "rédigez ma plainte au procureur")
    assert "dossier chiffré" in texts(replies) and "/open_case" in buttons(replies)
    assert bot.slots(sender)["case_code"] is None
    replies = bot.say(sender, "/open_case")
    found = CREATED.search(texts(replies))
    assert found, texts(replies)
    # One message holds the code and the secret; the complaint's first question follows.
    assert sum("Code du dossier" in (r.get("text") or "") for r in replies) == 1
    assert bot.slots(sender)["requested_slot"] is not None, texts(replies)
    code, secret = found.groups()
    with repository(bot) as repo:
        case = repo.open_case(code, secret).to_dict()
    assert case["incident"]["platforms"] == ["x"]  # what was said before the yes is kept
    assert case["victim"]["practice"] == "hospital"


def test_evidence_added_in_the_chat_is_journaled(bot: Stack) -> None:
    code, secret = start_case(bot, "case-evidence")
    bot.say("case-evidence", "ajouter une preuve")
    bot.say("case-evidence", "https://x.com/zorglub_vindicatif/status/42")
    bot.say("case-evidence", "hier vers 21 h 30")
    bot.say("case-evidence", HANDLE)
    replies = bot.say("case-evidence", "« escroc, tu finiras en prison »")
    assert "De quand date ce message ?" in texts(replies)
    replies = bot.say("case-evidence", "dans trois jours")  # refused, asked again
    assert "Cette date est dans le futur" in texts(replies)
    replies = bot.say("case-evidence", "le même jour")
    assert "Pièce n° 1 enregistrée" in texts(replies)
    with repository(bot) as repo:
        item = repo.open_case(code, secret).case.evidence[0]
    assert item.url == "https://x.com/zorglub_vindicatif/status/42"
    assert item.author == HANDLE
    assert item.excerpt == "« escroc, tu finiras en prison »"
    assert item.captured_at is not None
    assert item.published_at == item.captured_at.date()

    # The screenshot, sent from the page the chat links to.
    found = re.search(r"http://localhost:\d+(/pieces/\S+)", texts(replies))
    assert found, texts(replies)
    screenshot = b"\x89PNG\r\n\x1a\n" + b"capture " * 100
    boundary = "riposte-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
            'filename="capture.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + screenshot
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        bot.url(found.group(1), port=bot.web_port),
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert "Capture enregistrée" in response.read().decode()
    # The link has served: the page's server refuses it now (another file cannot follow).
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 410 and "déjà servi" in refused.value.read().decode()
    with repository(bot) as repo:
        item = repo.open_case(code, secret).case.evidence[0]
        assert item.sha256 == hashlib.sha256(screenshot).hexdigest()
        assert repo.evidence_content(code, 1) == screenshot


def test_delete_in_the_chat_erases_case_and_conversations(bot: Stack) -> None:
    code, secret = start_case(bot, "erase-a")
    # Code and passphrase in the same message as the request.
    replies = bot.say("erase-b", f"reprendre mon dossier {code} {secret.replace('-', ' ')}")
    assert f"Dossier **{code}** retrouvé" in texts(replies)
    assert bot.slots("erase-b")["case_code"] == code
    assert bot.slots("erase-b")["resume_credentials"] is None  # the secret is not kept
    assert events_of(bot, "erase-a") > 0 and events_of(bot, "erase-b") > 0

    replies = bot.say("erase-a", "supprimer mon dossier")
    assert code in texts(replies)
    assert [b["payload"] for r in replies for b in r.get("buttons", [])] == ["/affirm", "/deny"]
    replies = bot.say("erase-a", "/affirm")
    assert "sont effacés" in texts(replies)

    assert events_of(bot, "erase-a") == 0
    assert events_of(bot, "erase-b") == 0
    with repository(bot) as repo, pytest.raises(UnknownCaseError):
        repo.read_case(code)
    # The next message starts afresh: nothing of the old case is there.
    bot.say("erase-a", "bonjour")
    assert bot.slots("erase-a")["case_code"] is None


def test_nothing_personal_in_clear_in_the_databases(bot: Stack) -> None:
    start_case(bot, "clear-text")
    for path in (bot.var_dir / "riposte.db", bot.var_dir / "tracker.db"):
        data = path.read_bytes()
        for needle in (HANDLE, "zorglub", "escroc", "clear-text"):
            assert needle.encode() not in data, (path.name, needle)


def child_pids(parent: int) -> list[int]:
    """The direct children of a process (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def alive(pids: list[int]) -> list[int]:
    return [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def test_a_crash_of_every_process_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL the launcher, Rasa and the action server mid-triage; restart; go on."""
    token = "crash-token-" + "0" * 12
    stack = wait_ready(start_stack(tmp_path, token=token))
    try:
        code, secret = start_case(stack, "crash")
        before = stack.slots("crash")
        asked = before["requested_slot"]
        assert before["case_code"] == code and asked in ANSWERS, before
    finally:
        # The action server and Rasa run in their own sessions: SIGKILL each, then the launcher.
        children = child_pids(stack.process.pid)
        for pid in [*children, stack.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stack.process.wait()
    assert len(children) >= 2, children  # the action server and Rasa were both killed
    wait_until(
        lambda: not alive(children),
        lambda: f"every server gone (still running: {alive(children)})",
        interval=0.2,
    )
    (tmp_path / "serve.out").rename(tmp_path / "serve-before-crash.out")

    again = wait_ready(start_stack(tmp_path, token=token))
    try:
        after = again.slots("crash")
        for name in ("case_code", "platforms", "offenses", "first_published", "requested_slot"):
            assert after[name] == before[name], name
        answer, value = ANSWERS[asked]
        replies = again.say("crash", answer)
        assert texts(replies)  # the triage goes on
        assert again.slots("crash")[asked] == value
        with repository(again) as repo:
            case = repo.open_case(code, secret).to_dict()
        stored = {
            "author_relation": (case["incident"].get("author") or {}).get("relation"),
            "volume": case["incident"].get("volume"),
            "practice": (case.get("victim") or {}).get("practice"),
        }
        assert stored[asked] == value
        assert case["incident"]["platforms"] == ["x"]
    finally:
        again.stop()
