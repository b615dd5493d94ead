"""Glue shared by the actions: the conversation every case-store call names, the store
reached from a worker thread, today's date (the clock patched in tests), the slot snapshot, and
the case kept in step with the slots (`sync_case`)."""

from __future__ import annotations

import asyncio
import datetime
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from riposte import clock
from riposte.chat import case
from riposte.chat.triage import FACT_SLOTS, facts_from_text
from riposte.nlp.learned import LearnedFacts
from riposte.store.repository import CaseRepository

#: The key under which the pipeline's facts model puts what it read (facts_classifier.py).
LEARNED_FACTS_KEY = "riposte_facts"

T = TypeVar("T")


def as_chat(tracker: Tracker) -> dict[str, Any]:
    """The keywords of every case-store call made for this conversation (`**as_chat(tracker)`):
    only a conversation linked to the case reaches it (riposte.chat.case.as_chat)."""
    return case.as_chat(tracker.sender_id)


def repository() -> CaseRepository:
    return case.repository()


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core function (SQLAlchemy, scrypt) in a worker thread, so that the action
    server keeps answering other conversations."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(function, *args, **kwargs))


async def sync_case(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slots: Mapping[str, Any],
    *,
    create: bool = False,
) -> list[EventType]:
    """Write the facts and steps of `slots` to the conversation's case; with `create` (the
    doctor said yes), open it when there is none (riposte.chat.case.sync_case): its code and
    secret are shown then, once, in one message. A store failure is told to the doctor and
    does not stop the triage; a case found gone is forgotten (or replaced, with `create`)."""
    synced = await call(
        case.sync_case,
        slots,
        tracker.get_slot("case_code"),
        tracker.sender_id,
        today(),
        create=create,
    )
    if synced.refused:
        dispatcher.utter_message(text=synced.refused)
    if synced.gone:
        dispatcher.utter_message(response="utter_case_gone")
    if synced.failed:
        dispatcher.utter_message(response="utter_store_unavailable")
    if synced.code is None:
        if synced.gone and not synced.failed:
            return [SlotSet("case_code", None)]
        code = tracker.get_slot("case_code")
        if code and not (synced.gone or synced.failed or synced.refused):
            await _plan_follow_ups(dispatcher, tracker, code)
        return []
    dispatcher.utter_message(response="utter_case_created", code=synced.code, secret=synced.secret)
    await _plan_follow_ups(dispatcher, tracker, synced.code)
    return [SlotSet("case_code", synced.code), SlotSet("case_offer", None)]


async def _plan_follow_ups(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> None:
    from actions.follow_ups import plan_follow_ups  # (it imports this module)

    await plan_follow_ups(dispatcher, tracker, code)


# What an offer of a case file waits for (slot `case_offer`): the advice's offer, a letter,
# an evidence item typed or a file received; or the doctor said no (the advice's offer is not
# made again; a letter or an evidence item still asks, since it cannot be kept without one).
OFFER_ADVICE, OFFER_LETTER, OFFER_EVIDENCE, OFFER_FILE = "advice", "letter", "evidence", "file"
DECLINED = "declined"
# The messages that say yes to a case: « ouvrir un dossier » (the offer's button), or « oui »
# right after an offer.
CONSENT_INTENTS = frozenset({"open_case", "affirm"})


# Words read as « ouvrir un dossier » with less confidence than this are asked about first: a
# refusal misread as a yes (« le dossier chiffré, très peu pour moi ») must open nothing. The
# offer's button is read with full confidence.
OPEN_CONFIDENCE = 0.9


def asks_to_open(tracker: Tracker) -> bool:
    """Whether the latest message clearly asks to open the case: its button, or words the
    NLU reads as such with confidence."""
    intent = tracker.latest_message.get("intent") or {}
    confidence = float(intent.get("confidence") or 0.0)
    return intent.get("name") == "open_case" and confidence >= OPEN_CONFIDENCE


def consented(tracker: Tracker, purpose: str) -> bool:
    """Whether the latest message says yes to a case for `purpose`: « ouvrir un dossier »
    (clearly) whatever was offered, or « oui » to the offer made for it."""
    intent = tracker.get_intent_of_latest_message()
    offered = tracker.get_slot("case_offer") == purpose
    return asks_to_open(tracker) or (intent == "affirm" and offered)


def offer_case(dispatcher: CollectingDispatcher, response: str, purpose: str) -> list[EventType]:
    """Offer the case file, with what it keeps and why (`response`, with its two buttons)."""
    dispatcher.utter_message(response=response)
    return [SlotSet("case_offer", purpose)]


def request_message(tracker: Tracker) -> dict[str, Any]:
    """The message a skill answers: the latest one or, when that only said yes to the case the
    skill offered, the request before it (its words name the letter, the site…)."""
    if tracker.get_intent_of_latest_message() not in CONSENT_INTENTS:
        return dict(tracker.latest_message)
    users = [e for e in tracker.events if e.get("event") == "user"]
    for event in reversed(users[:-1]):
        parsed = event.get("parse_data") or {}
        if (parsed.get("intent") or {}).get("name") not in CONSENT_INTENTS:
            return {**parsed, "text": event.get("text")}
    return dict(tracker.latest_message)


def new_case_code(events: list[EventType]) -> str | None:
    """The code of a case `sync_case` opened, from its events."""
    return next((e["value"] for e in events if e.get("name") == "case_code"), None)


def today() -> datetime.date:
    return clock.today()


def fact_slots(tracker: Tracker) -> dict[str, Any]:
    names = (*FACT_SLOTS, "steps_done", "current_step")
    return {name: tracker.get_slot(name) for name in names}


def latest_text(tracker: Tracker) -> str:
    return text_of(tracker.latest_message)


def latest_choice(tracker: Tracker) -> str | None:
    return choice_of(tracker.latest_message)


def text_of(message: Mapping[str, Any]) -> str:
    return str(message.get("text") or "")


def choice_of(message: Mapping[str, Any]) -> str | None:
    """The button's choice (entity `choice`) a message carries."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == "choice" and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


def message_facts(tracker: Tracker, current: dict[str, Any]) -> dict[str, Any]:
    """Slot updates for what the latest message says (lexicon and facts model combined)."""
    return facts_from_text(latest_text(tracker), current, today(), learned_facts(tracker))


def learned_facts(tracker: Tracker) -> LearnedFacts | None:
    """What the trained facts model read in the latest message (None: it did not read it)."""
    return LearnedFacts.from_dict(tracker.latest_message.get(LEARNED_FACTS_KEY))


# Intents the forms leave to the digression rules of data/rules/ (domain/, not_intent).
DIGRESSION_INTENTS = frozenset(
    {
        "faq",
        "ask_why",
        "ask_deadlines",
        "stop_follow_ups",
        "resume_follow_ups",
        "request_help",
        "draft_complaint",
        "request_platform_notice",
        "request_letter",
    }
)
# Below this confidence, a message read as a digression is taken as the answer it may be
# (« @zorglub_vindicatif » reads as a FAQ at 0.54; real questions score above 0.9).
DIGRESSION_CONFIDENCE = 0.8
# A story (« racontez les faits ») in this many words or more is an answer, not a digression.
LONG_ANSWER_WORDS = 12


def action_before_form(tracker: Tracker) -> str | None:
    """The action that ran before this form run (Rasa appends the form's own event first)."""
    form = tracker.active_loop_name
    names = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    while names and names[-1] == form:
        names.pop()
    return names[-1] if names else None


def action_before_message(tracker: Tracker) -> str | None:
    """The last action the bot ran before the latest message (action_listen aside)."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    before = events[: users[-1]] if users else events
    names = [e.get("name") for e in before if e.get("event") == "action"]
    names = [name for name in names if name != "action_listen"]
    return names[-1] if names else None


def actions_since_last_message(tracker: Tracker) -> list[str]:
    """The actions the bot ran between the previous message (typed, or triggered like a
    follow-up) and the latest one."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    start = users[-2] + 1 if len(users) > 1 else 0
    end = users[-1] if users else len(events)
    return [str(e.get("name")) for e in events[start:end] if e.get("event") == "action"]


def kept_answer(tracker: Tracker, *, long_answer: bool = False) -> dict[str, Any]:
    """The text typed for the pending question although the NLU read it as a digression.

    domain/ does not map those intents to the form's free-text slots, so that the
    digression rules answer them; an answer misread as one (a handle, a link, an e-mail
    address, a long story, a low-confidence reading) is kept here instead of being lost.
    """
    slot = tracker.get_slot("requested_slot")
    if not slot or tracker.get_slot(slot) is not None:
        return {}
    if action_before_form(tracker) != "action_listen":
        return {}  # back from a digression: nothing new was typed
    intent = tracker.latest_message.get("intent") or {}
    if intent.get("name") not in DIGRESSION_INTENTS:
        return {}
    text = latest_text(tracker).strip()
    answer = (
        float(intent.get("confidence") or 0.0) < DIGRESSION_CONFIDENCE
        or text.startswith(("@", "http://", "https://", "www."))
        or ("@" in text and len(text.split()) == 1)  # an e-mail address
        or (long_answer and len(text.split()) >= LONG_ANSWER_WORDS)
    )
    return {slot: text} if text and answer else {}
