"""Follow-ups through the real stack (`riposte serve` with its scheduler), against the Telegram
and Signal fakes, with a controllable clock (RIPOSTE_CLOCK_FILE, read by every process):

* on Telegram, a press deadline's reminder arrives once, and not again after a `kill -9` and
  a restart of `riposte serve`; Telegram down at the next one, it arrives once it is back;
  « c'est fait » records the complaint and cancels the last one; an erasure request left
  unanswered leads, a month later, to the CNIL complaint's form with its date filled in;
* on Signal, « arrêter les rappels » holds the reminder back, « reprendre les rappels » sends
  it at once, with its numbered choices; deleting the case deletes its follow-ups and the
  address kept to reach the doctor.

Several Rasa servers and schedulers on PostgreSQL: tests/integration/test_follow_ups_cluster.py.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from devtools.waiting import wait_until
from riposte.store.config import StoreConfig
from riposte.store.follow_ups import FollowUp
from riposte.store.repository import CaseRepository
from tests.channels.test_signal import envelope
from tests.integration.conftest import Fakes, Stack, channel_env, start_stack, wait_ready
from tests.integration.fakes import ThreadedSignal, ThreadedTelegram
from tests.integration.test_rungs_telegram import Chat
from tests.integration.test_telegram_stack import CHAT_ID

CREATED = re.compile(r"Code du dossier : (?:\*\*|<b>)?(RIP-[0-9A-Z]{4}-[0-9A-Z]{2})")
DESCRIPTION = (
    "Depuis le 2 novembre le compte @zorglub_vindicatif me traite d'escroc sur X tous les jours"
)
REMINDER = "Rappel : le délai pour porter plainte"
# The stack's day, whatever the machine's date: the facts told (« depuis le 2 novembre »)
# and the dates of the follow-ups follow from it.
START = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=1)))
QUIET = 6.0  # seconds (six scheduler passes) during which nothing more may arrive


def set_clock(path: Path, when: datetime) -> None:
    """Move every process of the stack to `when` (written atomically)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(when.isoformat(), encoding="utf-8")
    temporary.replace(path)


@dataclass
class Setup:
    tmp: Path
    token: str
    env: dict[str, str]
    clock: Path
    telegram: ThreadedTelegram
    signal: ThreadedSignal
    stack: Stack

    def repository(self) -> CaseRepository:
        return CaseRepository(StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(self.tmp)}))

    def follow_ups(self, code: str) -> list[FollowUp]:
        with self.repository() as repo:
            return repo.follow_ups_of(code)

    def restart(self, sig: int = signal.SIGKILL) -> None:
        """Stop `riposte serve` (SIGKILL: no clean-up at all) and start it again."""
        os.killpg(self.stack.process.pid, sig)
        self.stack.process.wait(timeout=60)
        wait_until(
            lambda: not any(
                p.is_dir() and (p / "cmdline").exists() and _ours(p, self.tmp)
                for p in Path("/proc").iterdir()
                if p.name.isdigit()
            ),
            "every service of the killed stack gone",
            timeout=60,
        )
        self.stack = wait_ready(start_stack(self.tmp, self.token, self.env))


def _ours(proc: Path, tmp: Path) -> bool:
    try:
        environ = (proc / "environ").read_bytes()
    except OSError:
        return False
    return f"RIPOSTE_VAR_DIR={tmp}".encode() in environ.split(b"\0")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("follow-ups")
    clock = tmp / "clock.txt"
    set_clock(clock, START)
    telegram, signal_fake = ThreadedTelegram(), ThreadedSignal()
    token = "follow-up-token-" + os.urandom(12).hex()
    env = {
        **channel_env(Fakes(telegram, signal_fake)),
        "RIPOSTE_CLOCK_FILE": str(clock),
        "RIPOSTE_FOLLOW_UP_INTERVAL": "1",
    }
    stack = wait_ready(start_stack(tmp, token, env))
    found = Setup(tmp, token, env, clock, telegram, signal_fake, stack)
    yield found
    found.stack.stop()
    telegram.stop()
    signal_fake.stop()


def open_case(say: Callable[[str, str], str]) -> tuple[str, str]:
    """Describe the insults, then « ouvrir un dossier » (`say(text, expected)`): the case's
    code, and the reply with the first follow-up's announcement."""
    say(DESCRIPTION, "?")
    opened = say("/open_case", "Je vous enverrai un rappel ici le")
    found = CREATED.search(opened)
    assert found, opened
    return found.group(1), opened


def reminders(chat: Chat, text: str = REMINDER) -> list[Any]:
    return [c for c in chat.sent() if text in c.fields["text"]]


def test_a_deadline_reminder_on_telegram_once_across_kill_9_a_channel_down_and_done(
    setup: Setup,
) -> None:
    set_clock(setup.clock, START)  # each journey starts on the same day
    chat = Chat((setup.stack, setup.telegram), CHAT_ID + 70, 700)
    code, opened = open_case(chat.say)
    assert "arrêter les rappels" in opened
    planned = [f for f in setup.follow_ups(code) if f.kind == "deadline"]
    assert [f.facts["days"] for f in planned] == [30, 14, 3]
    deadline = date.fromisoformat(planned[0].facts["deadline"])

    # The 30-day reminder: once, with the deadline's weekday and buttons.
    set_clock(setup.clock, planned[0].due_at + timedelta(minutes=1))
    wait_until(lambda: reminders(chat), "the first reminder sent to the chat", timeout=60)
    first = reminders(chat)[0]
    assert deadline.strftime("%d/%m/%Y") in first.fields["text"]
    assert "dans 30 jours" in first.fields["text"]
    payloads = [
        b["callback_data"]
        for row in first.json_field("reply_markup")["inline_keyboard"]
        for b in row
    ]
    assert payloads == ["/draft_complaint", "/mark_step_done", "/stop_follow_ups"]
    time.sleep(QUIET)
    assert len(reminders(chat)) == 1

    # kill -9 of `riposte serve`, then a restart: the reminder sent is not sent again.
    setup.restart()
    chat.stack = setup.stack
    time.sleep(QUIET)
    assert len(reminders(chat)) == 1
    assert [f.state for f in setup.follow_ups(code) if f.kind == "deadline"] == [
        "sent",
        "due",
        "due",
    ]

    # Telegram down when the 14-day one falls due: it arrives once Telegram is back.
    setup.telegram.api.down = True
    set_clock(setup.clock, planned[1].due_at + timedelta(minutes=1))

    def tried() -> bool:
        return any(f.attempts for f in setup.follow_ups(code))

    wait_until(tried, "a failed delivery recorded", timeout=60)
    assert len(reminders(chat)) == 1
    setup.telegram.api.down = False
    set_clock(setup.clock, planned[1].due_at + timedelta(minutes=5))  # past the wait
    wait_until(lambda: len(reminders(chat)) == 2, "the reminder sent once back", timeout=90)
    assert "dans 14 jours" in reminders(chat)[1].fields["text"]
    time.sleep(QUIET)
    assert len(reminders(chat)) == 2

    # « C'est fait » under it: the complaint is recorded, the 3-day reminder cancelled.
    done = chat.say("c'est fait", "C'est noté")
    assert "Plainte déposée" in done
    states = [f.state for f in setup.follow_ups(code) if f.kind == "deadline"]
    assert states == ["answered", "answered", "cancelled"]


# The triage's last questions, and what the doctor answers.
TRIAGE_ANSWERS = {
    "qui en est l'auteur": "c'est un patient",
    "Combien de messages": "un seul compte",
    "publics (visibles par tous)": "c'est public",
    "comment exercez-vous": "je travaille à l'hôpital",
}


def finish_triage(sent: Callable[[], list[str]], say: Callable[[str], object]) -> None:
    """Answer the triage's remaining questions until the advice comes (`sent`: the messages
    sent to the doctor so far; `say`: what she types). The pending question may come before
    other messages (the case's code after « ouvrir un dossier »)."""
    fresh = sent()[-3:]  # the messages not answered yet
    for _ in range(len(TRIAGE_ANSWERS) + 1):
        pending = [q for text in fresh for q in TRIAGE_ANSWERS if q in text]
        if not pending:
            return
        count = len(sent())
        say(TRIAGE_ANSWERS[pending[-1]])

        def answered(count: int = count) -> list[str] | None:
            new = sent()[count:]
            ends = [t for t in new if "étape" in t or any(q in t for q in TRIAGE_ANSWERS)]
            return new if ends else None  # the next question, or the advice

        fresh = wait_until(answered, "the next question or the advice", timeout=60)
    raise AssertionError("the triage does not end")


def test_an_erasure_request_unanswered_a_month_later_opens_the_cnil_form_with_its_date(
    setup: Setup,
) -> None:
    set_clock(setup.clock, START)  # each journey starts on the same day
    chat = Chat((setup.stack, setup.telegram), CHAT_ID + 71, 800)
    code, _ = open_case(chat.say)
    finish_triage(lambda: [c.fields["text"] for c in chat.sent()], lambda text: chat.say(text, ""))
    # She asks for the complaint to the CNIL too early: the chat asks when the erasure
    # request left, records it and says when the CNIL can be seized.
    asked = chat.say(
        '/request_letter{"choice":"draft_kind=cnil_complaint"}',
        "Quand avez-vous envoyé cette demande",
    )
    assert "Plainte auprès de la CNIL" in asked
    early = chat.say("le 7 décembre", "07/01/2027")
    assert "07/12/2026" in early
    (erasure,) = [f for f in setup.follow_ups(code) if f.kind == "erasure_answer"]
    assert erasure.due_at.date() == date(2027, 1, 8)  # the day after the month to answer

    set_clock(setup.clock, erasure.due_at + timedelta(minutes=1))
    reminder = wait_until(
        lambda: reminders(chat, "votre demande d'effacement est partie le 07/12/2026"),
        "the erasure reminder",
        timeout=60,
    )[0]
    assert "jusqu'au 07/01/2027" in reminder.fields["text"]
    payloads = [
        b["callback_data"]
        for row in reminder.json_field("reply_markup")["inline_keyboard"]
        for b in row
    ]
    (cnil,) = [p for p in payloads if "draft_kind=cnil_complaint" in p]
    form = chat.press(cnil, "Plainte auprès de la CNIL")
    # The request's date is already in the case: the form does not ask it.
    assert "Quand avez-vous envoyé cette demande" not in form
    assert "pas encore envoyée" not in form


def test_on_signal_stop_holds_the_reminder_back_resume_sends_it_delete_erases_it(
    setup: Setup,
) -> None:
    set_clock(setup.clock, START)  # each journey starts on the same day
    fake = setup.signal
    uuid = "a1b2c3d4-0000-4000-8000-00000000f0f0"
    stamps = iter(range(10_000, 20_000))

    def say(text: str, expected: str) -> str:
        before = len(fake.api.sent)
        fake.push(envelope(text, sender_uuid=uuid, timestamp=next(stamps)))

        def answer() -> str:
            return "\n".join(
                m["message"] for m in fake.api.sent[before:] if m["recipients"] == [uuid]
            )

        try:
            wait_until(lambda: expected in answer(), f"« {expected} » sent on Signal", timeout=90)
        except AssertionError as error:
            raise AssertionError(f"{error}; sent instead: {answer()!r}") from None
        return answer()

    def reminders_sent() -> list[str]:
        return [
            m["message"]
            for m in fake.api.sent
            if m["recipients"] == [uuid] and REMINDER in m["message"]
        ]

    def mine() -> list[str]:
        return [m["message"] for m in fake.api.sent if m["recipients"] == [uuid]]

    code, _ = open_case(say)
    # The triage's last questions answered: the reminder's choices are then the last ones.
    finish_triage(mine, lambda text: say(text, ""))
    first = setup.follow_ups(code)[0]
    assert say("arrêter les rappels", "C'est arrêté")
    set_clock(setup.clock, first.due_at + timedelta(minutes=1))
    time.sleep(QUIET)
    assert reminders_sent() == []
    resumed = say("reprendre les rappels", "C'est repris")
    assert "arrive tout de suite" in resumed
    wait_until(lambda: reminders_sent(), "the reminder held back, sent on resuming", timeout=60)
    time.sleep(QUIET)
    (sent,) = reminders_sent()
    assert "1. Préparer la plainte" in sent and "3. Arrêter les rappels" in sent
    # Its numbered choices work like any other: 3 stops the follow-ups again.
    assert say("3", "C'est arrêté")

    # Deleting the case deletes its follow-ups and the address kept to reach the doctor.
    say("supprimer mon dossier", "Voulez-vous vraiment")
    say("1", "le dossier, ses fichiers et cette conversation sont effacés")
    pseudonym = setup.stack.pseudonym(uuid, "signal")
    with setup.repository() as repo:
        assert repo.contact_address("signal", pseudonym) is None
        assert [
            f
            for f in repo.follow_up_report(datetime(2000, 1, 1, tzinfo=timezone.utc))
            if f.channel == "signal"
        ] == []
