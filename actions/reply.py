"""« Je veux répondre » : a public reply to a review, proof-read in the chat (pacifique rung).

The rules of a good public reply come first (with their sources), preceded by one sentence
when the case's advice does not recommend replying publicly; the form asks the draft, which is
reviewed for medical secrecy and tone (riposte.chat.reply). The draft stays in its slot after
the review, and the proposed wording in `reply_proposal` for « Utiliser la proposition ».
Riposte publishes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    DIGRESSION_CONFIDENCE,
    DIGRESSION_INTENTS,
    LONG_ANSWER_WORDS,
    call,
    fact_slots,
    latest_text,
    today,
)
from actions.danger import DangerFirstForm, emergency_first, typed_now
from riposte.chat import reply as chat
from riposte.chat import triage
from riposte.chat.case import read_case_dict

log = logging.getLogger(__name__)

DRAFT_SLOT = chat.FORM_SLOTS[0]
PROPOSAL_SLOT = "reply_proposal"
REVIEW_ACTION = "action_review_reply"
# Intents the draft slot leaves to the digression rules (domain/reply.yml, not_intent).
DRAFT_DIGRESSIONS = DIGRESSION_INTENTS | {"request_reply_help"}


def format_count(number: int) -> str:
    """A number as French writes it (3 000)."""
    return f"{number:,}".replace(",", " ")


def reviewed_before(tracker: Tracker) -> bool:
    """Whether a draft was already reviewed in this conversation (the rules were shown)."""
    return any(
        e.get("event") == "action" and e.get("name") == REVIEW_ACTION for e in tracker.events
    )


def not_recommended_why(tracker: Tracker) -> str | None:
    """Why replying publicly is not advised for the facts the conversation holds (None when
    it is, or when the facts are not all known yet)."""
    slots = fact_slots(tracker)
    if not triage.has_facts(slots) or triage.missing_slots(slots):
        return None
    return chat.not_recommended_why(triage.advice_for(slots, today()))


class ActionStartReply(Action):
    """Say the rules of a good reply (once), warn if the case's rung is not pacifique, and
    clear the previous review so that the form asks the draft."""

    def name(self) -> str:
        return "action_start_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if emergency_first(dispatcher, tracker):
            events.append(SlotSet("urgent", True))
        if not reviewed_before(tracker):
            why = not_recommended_why(tracker)
            if why:
                dispatcher.utter_message(response="utter_reply_not_recommended", why=why)
            dispatcher.utter_message(response="utter_reply_rules", sources=chat.sources_text())
        return [*events, SlotSet(DRAFT_SLOT, None), SlotSet(PROPOSAL_SLOT, None)]


class ValidateReplyForm(DangerFirstForm):
    """Take the draft as typed; refuse an empty or too long one, saying the limit.

    A danger said in the draft gets the emergency reply first (DangerFirstForm); the draft is
    still read and kept.
    """

    def name(self) -> str:
        return "validate_reply_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        kept = kept_draft(tracker)
        if kept is not None:
            events.append(SlotSet(DRAFT_SLOT, kept))
        return events

    async def validate_reply_draft(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:
            # The slot cleared by action_start_reply (also validated, as set in this turn):
            # nothing was typed, the form just asks.
            return {DRAFT_SLOT: None}
        draft = chat.read_draft(value if isinstance(value, str) else None)
        if draft.text is None:
            _refuse(dispatcher, draft)
        return {DRAFT_SLOT: draft.text}


def _refuse(dispatcher: CollectingDispatcher, draft: chat.Draft) -> None:
    """Say why a draft is not read: too long (with the limit), or empty."""
    if draft.error == "too_long":
        dispatcher.utter_message(
            response="utter_reply_draft_too_long",
            length=format_count(draft.length),
            limit=format_count(chat.MAX_DRAFT),
        )
    else:
        dispatcher.utter_message(response="utter_reply_draft_empty")


def kept_draft(tracker: Tracker) -> str | None:
    """The text typed as the draft although the NLU read it as a digression: a low-confidence
    reading, or a text too long to be a question (a pasted reply often thanks or asks)."""
    if tracker.get_slot("requested_slot") != DRAFT_SLOT or tracker.get_slot(DRAFT_SLOT):
        return None
    if not typed_now(tracker):
        return None  # back from a digression: nothing new was typed
    intent = tracker.latest_message.get("intent") or {}
    if intent.get("name") not in DRAFT_DIGRESSIONS:
        return None
    text = latest_text(tracker).strip()
    low = float(intent.get("confidence") or 0.0) < DIGRESSION_CONFIDENCE
    return text if text and (low or len(text.split()) >= LONG_ANSWER_WORDS) else None


def typed_after_review(tracker: Tracker) -> bool:
    """Whether the latest message was typed right after a review (a new version of the draft,
    data/rules/reply.yml), rather than given to the form."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "action":
            if event.get("name") != "action_listen":
                return bool(event.get("name") == REVIEW_ACTION)
    return False


class ActionReviewReply(Action):
    """Review the draft: say it is fine, or list each problem and propose a wording.

    After the form, the draft is the slot's; after a review with problems, a text typed
    instead of a button is a new version (the rules send it here): it replaces the draft
    when it is readable, and is reviewed.
    """

    def name(self) -> str:
        return REVIEW_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        draft = tracker.get_slot(DRAFT_SLOT)
        if typed_after_review(tracker):
            events += self._danger(dispatcher, tracker)
            typed = chat.read_draft(latest_text(tracker))
            if typed.text is None:
                _refuse(dispatcher, typed)
                return events  # the previous draft and proposal stay
            draft = typed.text
            events.append(SlotSet(DRAFT_SLOT, draft))
        if not isinstance(draft, str) or not draft.strip():
            dispatcher.utter_message(response="utter_reply_no_proposal")
            return events
        names = await self._own_names(tracker)
        result = await call(chat.review, draft, names=names)
        if result.clean:
            dispatcher.utter_message(response="utter_reply_clean")
            return [*events, SlotSet(PROPOSAL_SLOT, None)]
        dispatcher.utter_message(response="utter_reply_problems", review=chat.review_text(result))
        return [*events, SlotSet(PROPOSAL_SLOT, result.proposal)]

    @staticmethod
    def _danger(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if emergency_first(dispatcher, tracker):
            return [SlotSet("urgent", True)]
        return []

    @staticmethod
    async def _own_names(tracker: Tracker) -> list[str]:
        """The doctor's names from the case, when one is open (a signature is not flagged)."""
        code = tracker.get_slot("case_code")
        if not code:
            return []
        case = await call(read_case_dict, str(code), tracker.sender_id)
        return chat.own_names(case)


class ActionUseReplyProposal(Action):
    """« Utiliser la proposition » : the proposed wording alone, ready to copy."""

    def name(self) -> str:
        return "action_use_reply_proposal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        proposal = tracker.get_slot(PROPOSAL_SLOT)
        if not isinstance(proposal, str) or not proposal.strip():
            dispatcher.utter_message(response="utter_reply_no_proposal")
            return []
        dispatcher.utter_message(response="utter_reply_proposal", proposal=proposal)
        return []
