"""The triage conversation's pure logic: from slot values to the shared case, and back.

The Rasa actions (actions/triage.py, actions/advice.py) are thin wrappers over these
functions: they pass the slots and the latest message, and send what comes back. Nothing
here imports rasa or rasa_sdk, so every rule is tested with plain pytest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from riposte import knowledge
from riposte.nlp.dates import parse_french_date
from riposte.nlp.extract import extract_facts
from riposte.nlp.learned import LearnedFacts, combine
from riposte.text import date_fr, fold, folded_words

# The questions of the triage form, in the order they are asked (domain/triage.yml, triage_form).
REQUIRED_SLOTS: tuple[str, ...] = (
    "platforms",
    "offenses",
    "first_published",
    "author_relation",
    "volume",
    "public",
    "practice",
)
# Every slot that holds a fact of the situation (reset by "recommencer").
FACT_SLOTS: tuple[str, ...] = (
    *REQUIRED_SLOTS,
    "urgent",
    "physical_danger",
    "lawful_criticism",
    "discriminatory",
    "last_seen",
    "author_known",
    "author_handles",
    "wants_reply",
)
LIST_SLOTS = frozenset({"platforms", "offenses", "author_handles"})
UNKNOWN = "unknown"
CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "author_relation": ("unknown", "patient", "colleague", "other"),
    "volume": ("single", "repeated", "raid"),
    "practice": ("liberal", "hospital", "salaried", "other"),
}
# Slots for which "je ne sais pas" is an acceptable answer, and the value it stands for.
DONT_KNOW_VALUES: Mapping[str, Any] = {
    "platforms": ["other"],
    "first_published": UNKNOWN,
    "author_relation": "unknown",
    "practice": "other",
}


def texts() -> Mapping[str, Any]:
    """The conversation's French texts (riposte/knowledge/conversation.yml)."""
    return knowledge.load_conversation()


def is_dont_know(text: str) -> bool:
    folded = fold(text).strip(" .!?")
    return any(folded == p or folded.startswith(p + " ") for p in texts()["dont_know"])


def merge(current: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
    """Slot updates from newly found facts: lists grow, other values are replaced.

    A fact the doctor states again, or corrects, wins over the older value; a list fact
    (platforms, offenses, handles) is the union, in the order first mentioned.
    """
    updates: dict[str, Any] = {}
    for name, value in found.items():
        if value is None:
            continue
        if name in LIST_SLOTS:
            old = list(current.get(name) or [])
            merged = old + [v for v in value if v not in old]
            if merged != old or current.get(name) is None:
                updates[name] = merged
        elif current.get(name) != value:
            updates[name] = value
    # Naming an offense means the content is not a mere criticism, and the reverse.
    if updates.get("offenses"):
        updates["lawful_criticism"] = False
    elif found.get("lawful_criticism") and not (current.get("offenses") or []):
        updates["offenses"] = []
    return updates


def derive(slots: Mapping[str, Any]) -> dict[str, Any]:
    """Values that follow from others, so that the doctor is not asked them."""
    updates: dict[str, Any] = {}
    platforms = list(slots.get("platforms") or [])
    if slots.get("public") is None and platforms:
        # Private correspondence (platforms.yml `private`) is never public; a messaging
        # service such as WhatsApp may hold a large group: the doctor is asked.
        catalogue = knowledge.load().platforms
        known = [catalogue[p] for p in platforms if p in catalogue]
        if known and len(known) == len(platforms) and all(p.private for p in known):
            updates["public"] = False
        elif all(p.public for p in known):
            updates["public"] = True
    if slots.get("volume") == "raid" and slots.get("author_relation") is None:
        updates["author_relation"] = "unknown"
    # A single message is published once: its only date is the first publication.
    if slots.get("volume") == "single" and slots.get("first_published") is None:
        if slots.get("last_seen"):
            updates["first_published"] = slots["last_seen"]
    if slots.get("physical_danger") and not slots.get("urgent"):
        updates["urgent"] = True
    return updates


def facts_from_text(
    text: str, current: Mapping[str, Any], today: date, learned: LearnedFacts | None = None
) -> dict[str, Any]:
    """Slot updates for everything the message says (plus what follows from it).

    `learned` is what the trained facts model read in the same message (Rasa's parse data):
    it completes the lexicon by the rule of `riposte.nlp.learned.combine`.
    """
    found = combine(extract_facts(text, today), learned).to_slots()
    updates = merge(current, found)
    updates.update(derive({**current, **updates}))
    return updates


def answer_requested(
    requested: str | None,
    text: str,
    current: Mapping[str, Any],
    today: date,
    learned: LearnedFacts | None = None,
) -> dict[str, Any]:
    """Slot updates from an answer to the question about `requested`.

    Everything the text says is kept (a doctor may answer more than asked); when the text
    says nothing about the requested slot, a date or "je ne sais pas" is tried for it.
    """
    updates = facts_from_text(text, current, today, learned)
    if requested is None or requested in updates:
        return updates
    if requested == "first_published":
        found = parse_french_date(text, today)
        if found is not None:
            updates["first_published"] = found.isoformat()
            return updates
    if requested in DONT_KNOW_VALUES and is_dont_know(text):
        updates[requested] = DONT_KNOW_VALUES[requested]
        updates.update(derive({**current, **updates}))
    return updates


def _payload_choice(payload: str) -> str | None:
    """The choice of a button payload such as `/inform{"choice": "volume=repeated"}` (the
    domain writes its braces doubled, as a response template)."""
    payload = payload.replace("{{", "{").replace("}}", "}")
    _, brace, rest = payload.partition("{")
    try:
        value = json.loads(brace + rest).get("choice") if brace else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def choice_from_title(text: str, buttons: Iterable[Mapping[str, Any]]) -> str | None:
    """The choice of the question's button whose title the doctor typed instead of pressing it
    (case, accents and punctuation aside), or whose title alone starts with the words typed,
    one of them a word of four letters or more (« plusieurs » for « Plusieurs, du même
    auteur », not « un » for « Un faux profil à mon nom »); None when none fits, or several do."""
    typed = folded_words(text)
    if not typed:
        return None
    may_start = any(len(word) >= 4 for word in typed)
    exact: list[str] = []
    starting: list[str] = []
    for button in buttons:
        choice = _payload_choice(str(button.get("payload") or ""))
        title = folded_words(str(button.get("title") or ""))
        if choice is None:
            continue
        if title == typed:
            exact.append(choice)
        elif may_start and title[: len(typed)] == typed:
            starting.append(choice)
    found = exact or starting
    return found[0] if len(found) == 1 else None


def parse_choice(choice: str) -> dict[str, Any]:
    """Slot updates for a button payload's choice, e.g. "practice=hospital".

    Raises ValueError for a choice that names no known slot or value (a forged payload).
    """
    name, sep, value = choice.partition("=")
    if not sep:
        raise ValueError(f"malformed choice {choice!r}")
    catalogue = knowledge.load()
    if name == "platforms" and value in catalogue.platforms:
        return {"platforms": [value]}
    if name == "offenses":
        if value == "none":
            return {"offenses": [], "lawful_criticism": True}
        if value in catalogue.offenses:
            return {"offenses": [value], "lawful_criticism": False}
    if name == "public" and value in ("true", "false"):
        return {"public": value == "true"}
    if name == "first_published" and value == UNKNOWN:
        return {"first_published": UNKNOWN}
    if name in CATEGORIES and value in CATEGORIES[name]:
        return {name: value}
    raise ValueError(f"unknown choice {choice!r}")


def missing_slots(slots: Mapping[str, Any]) -> list[str]:
    return [name for name in REQUIRED_SLOTS if slots.get(name) is None]


def has_facts(slots: Mapping[str, Any]) -> bool:
    return any(slots.get(name) not in (None, []) for name in FACT_SLOTS) or bool(
        slots.get("lawful_criticism")
    )


def _iso_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value != UNKNOWN:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def case_from_slots(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The shared JSON case format (riposte/schemas/case.schema.json) from the slots."""
    case: dict[str, Any] = {"steps_done": list(slots.get("steps_done") or [])}
    if slots.get("practice"):
        case["victim"] = {"practice": slots["practice"]}
    if not has_facts({k: v for k, v in slots.items() if k != "practice"}):
        return case
    incident: dict[str, Any] = {
        "platforms": list(slots.get("platforms") or []),
        "offenses": list(slots.get("offenses") or []),
    }
    for name in ("discriminatory", "public", "volume", "wants_reply"):
        if slots.get(name) is not None:
            incident[name] = slots[name]
    if slots.get("physical_danger") or slots.get("urgent"):
        incident["physical_danger"] = True
    for name in ("first_published", "last_seen"):
        value = _iso_or_none(slots.get(name))
        if value:
            incident[name] = value
    author: dict[str, Any] = {}
    if slots.get("author_relation"):
        author["relation"] = slots["author_relation"]
    if slots.get("author_known") is not None:
        author["known"] = slots["author_known"]
    if slots.get("author_handles"):
        author["handles"] = list(slots["author_handles"])
    if author:
        incident["author"] = author
    case["incident"] = incident
    return case


# The incident fields the slots own: a sync from the chat rewrites these and only these
# (the statements, the summary or the victim's identity, entered elsewhere, are kept).
_SLOT_INCIDENT_FIELDS = (
    "platforms",
    "offenses",
    "discriminatory",
    "public",
    "volume",
    "wants_reply",
    "physical_danger",
    "first_published",
    "last_seen",
)
_SLOT_AUTHOR_FIELDS = ("relation", "known", "handles")


def case_patch(slots: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Merge Patch that makes a stored case say what the slots say.

    Every field the slots own is written, `null` when the slot is empty, so that a fact
    corrected or forgotten (« recommencer ») is corrected or forgotten in the store too.
    """
    case = case_from_slots(slots)
    incident = case.get("incident") or {}
    author = incident.get("author") or {}
    patch_incident: dict[str, Any] = {name: incident.get(name) for name in _SLOT_INCIDENT_FIELDS}
    patch_incident["author"] = {name: author.get(name) for name in _SLOT_AUTHOR_FIELDS}
    return {
        "victim": {"practice": slots.get("practice")},
        "incident": patch_incident if "incident" in case else None,
        "steps_done": list(slots.get("steps_done") or []),
    }


def slots_from_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """The slot values of a stored case (the reverse of `case_from_slots`)."""
    incident = case.get("incident") or {}
    author = incident.get("author") or {}
    victim = case.get("victim") or {}
    slots: dict[str, Any] = {name: None for name in FACT_SLOTS}
    for name in ("platforms", "offenses"):
        if incident.get(name) is not None:
            slots[name] = list(incident[name])
    for name in ("discriminatory", "public", "volume", "wants_reply", "last_seen"):
        slots[name] = incident.get(name)
    # A date answered « je ne sais pas » is not stored: the form asks it again on resume.
    slots["first_published"] = incident.get("first_published")
    if incident.get("physical_danger"):
        slots["physical_danger"] = True
        slots["urgent"] = True
    slots["author_relation"] = author.get("relation")
    slots["author_known"] = author.get("known")
    slots["author_handles"] = list(author["handles"]) if author.get("handles") else None
    slots["practice"] = victim.get("practice")
    if incident and slots["offenses"] == []:
        slots["lawful_criticism"] = True
    elif slots["offenses"]:
        slots["lawful_criticism"] = False
    slots["steps_done"] = list(case.get("steps_done") or [])
    return slots


def summary_lines(slots: Mapping[str, Any]) -> list[str]:
    """ "Voici ce que j'ai compris" lines, in French, for the facts known so far."""
    t = texts()
    catalogue = knowledge.load()
    lines: list[str] = []
    if slots.get("urgent"):
        lines.append(t["summary"]["urgent"])
    platforms = [catalogue.platforms[p].label for p in slots.get("platforms") or []]
    if platforms:
        lines.append(t["summary"]["platforms"].format(value=", ".join(platforms)))
    offenses = [catalogue.offenses[o].label for o in slots.get("offenses") or []]
    if offenses:
        lines.append(t["summary"]["offenses"].format(value=", ".join(offenses)))
    elif slots.get("lawful_criticism"):
        lines.append(t["summary"]["lawful_criticism"])
    published = slots.get("first_published")
    if published:
        shown = t["values"]["first_published"].get(published) or _french_date(published)
        lines.append(t["summary"]["first_published"].format(value=shown))
    for name in ("author_relation", "volume", "public", "practice"):
        value = slots.get(name)
        if value is None:
            continue
        key = str(value).lower() if isinstance(value, bool) else value
        lines.append(t["summary"][name].format(value=t["values"][name][key]))
    return lines


def _french_date(iso: str) -> str:
    try:
        return date_fr(date.fromisoformat(iso))
    except ValueError:
        return iso


def why_question(slot: str) -> str:
    return str(texts()["why_question"][slot])


# --------------------------------------------------------------------------- advice in the chat


def advice_for(slots: Mapping[str, Any], today: date) -> Any:
    """Run the advice engine on the case the slots describe."""
    from riposte.advice.engine import advise
    from riposte.case import load_case

    return advise(load_case(case_from_slots(slots), today=today), today)


def deadline_lines(advice: Any) -> list[str]:
    """One line per possible offense: the deadline to act in court and the days left.

    Rendered by `riposte.advice.render.chat_deadline_lines` (templates/advice), which callers
    may use directly.
    """
    from riposte.advice.render import chat_deadline_lines

    return chat_deadline_lines(advice)


def next_step(advice: Any, after: str | None = None) -> Any | None:
    """The first step not done; with `after`, the first not-done step that follows it."""
    steps = list(advice.steps)
    keys = [s.key for s in steps]
    start = keys.index(after) + 1 if after in keys else 0
    for step in steps[start:] + steps[:start]:
        if not step.done and step.key != after:
            return step
    return None
