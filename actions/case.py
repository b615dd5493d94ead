"""The case file from the chat: deadlines, resume, erase (riposte/chat/case.py does the work).

Store calls are blocking (SQLAlchemy, scrypt): they run in a worker thread (`call`), so that
the action server keeps answering other conversations. Nothing personal is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    DECLINED,
    OFFER_ADVICE,
    OFFER_EVIDENCE,
    OFFER_FILE,
    OFFER_LETTER,
    action_before_message,
    as_chat,
    asks_to_open,
    call,
    fact_slots,
    latest_text,
    new_case_code,
    repository,
    sync_case,
    today,
)
from actions.danger import DangerFirstForm
from actions.evidence import file_pending, typed_item
from riposte.chat import case, evidence, triage
from riposte.chat.evidence import EVIDENCE_SLOTS, FILE_REF
from riposte.store.codes import find_credentials

log = logging.getLogger(__name__)


class ActionSessionStart(Action):
    """A new session: keep the slots, and remind the deadlines of the case if there is one."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name != "requested_slot"
        ]
        events.extend(carried)
        slots = fact_slots(tracker)
        if tracker.get_slot("case_code"):
            text = case.deadline_text(slots, today())
            if text:
                dispatcher.utter_message(
                    response="utter_deadlines_reminder",
                    code=tracker.get_slot("case_code"),
                    deadlines=text,
                )
        events.append(ActionExecuted("action_listen"))
        return events


class ActionOpenCase(Action):
    """« Ouvrir un dossier » (or the offer's button): open the case file with what the
    conversation knows, its code and secret in one message; file the evidence item or the
    file that waited for this yes. The letters' offers are answered by their start actions
    (data/rules/case.yml)."""

    def name(self) -> str:
        return "action_open_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if code:
            dispatcher.utter_message(response="utter_case_already_open", code=code)
            return [SlotSet("case_offer", None)]
        said_yes = tracker.get_intent_of_latest_message() == "affirm"
        if not (said_yes or asks_to_open(tracker)):
            # Words that may not mean yes: asked with the offer's buttons; what waited for
            # the yes (an item, a file) still waits.
            dispatcher.utter_message(response="utter_case_confirm")
            return [SlotSet("case_offer", tracker.get_slot("case_offer") or OFFER_ADVICE)]
        events = await sync_case(dispatcher, tracker, fact_slots(tracker), create=True)
        code = new_case_code(events)
        if code is None:
            return events  # refused or the store failed: already said
        log.info("case opened on the doctor's yes")
        return [*events, *await file_pending(dispatcher, tracker, code)]


# The offers a bare « non » answers (the advice's offer has its buttons).
ANSWERED_BY_NO = frozenset({OFFER_LETTER, OFFER_EVIDENCE, OFFER_FILE})


class ActionDeclineCase(Action):
    """« Pas de dossier » : nothing is kept outside this conversation. An evidence item typed
    for the case is given back, a file received is deleted from the inbox; the advice's offer
    is not made again."""

    def name(self) -> str:
        return "action_decline_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if code:
            dispatcher.utter_message(response="utter_case_kept", code=code)
            return [SlotSet("case_offer", None)]
        offer = tracker.get_slot("case_offer")
        asked = offer in ANSWERED_BY_NO or action_before_message(tracker) == "action_open_case"
        if tracker.get_intent_of_latest_message() == "deny" and not asked:
            # A bare « non » after a start action that offered nothing (data/rules/case.yml).
            dispatcher.utter_message(response="utter_default")
            return []
        events: list[EventType] = [SlotSet("case_offer", DECLINED)]
        if offer == OFFER_EVIDENCE:
            lines = evidence.typed_lines(typed_item(tracker))
            dispatcher.utter_message(
                response="utter_case_declined_evidence", item="\n".join(lines) or "-"
            )
            return [*events, *(SlotSet(name, None) for name in EVIDENCE_SLOTS)]
        if offer == OFFER_FILE:
            ref = tracker.get_slot(FILE_REF)
            if ref:
                await call(evidence.discard_received, str(ref), tracker.sender_id)
            dispatcher.utter_message(response="utter_case_declined_file")
            return [*events, SlotSet(FILE_REF, None)]
        if offer == OFFER_LETTER:
            dispatcher.utter_message(response="utter_case_declined_letter")
            return events
        dispatcher.utter_message(response="utter_case_declined")
        return events


class ActionTellDeadlines(Action):
    """« Mes délais » : what is running out, from the case and today's date."""

    def name(self) -> str:
        return "action_tell_deadlines"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = case.deadline_text(fact_slots(tracker), today())
        if text is None:
            dispatcher.utter_message(response="utter_no_deadlines_yet")
            return []
        dispatcher.utter_message(response="utter_deadlines", deadlines=text)
        return []


class ValidateResumeForm(DangerFirstForm):
    """Check the code and the secret against the store; restore the case into the slots.

    A danger said instead of the code gets the emergency reply first (DangerFirstForm).
    """

    def name(self) -> str:
        return "validate_resume_form"

    async def extract_resume_credentials(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """« reprendre mon dossier RIP-… » with the code in the same message: read it now.

        Only the message that starts the form is read here; the answers to the form's
        question are taken by the slot's `from_text` mapping.
        """
        if tracker.get_intent_of_latest_message() != "resume_case":
            return {}
        if tracker.get_slot("requested_slot") == "resume_credentials":
            return {}
        text = latest_text(tracker)
        code, _secret = find_credentials(text)
        return {"resume_credentials": text} if code else {}

    async def validate_resume_credentials(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        resumed = await call(
            case.resume_case,
            str(slot_value or ""),
            tracker.sender_id,
            int(tracker.get_slot("resume_attempts") or 0),
            asked=tracker.get_intent_of_latest_message() == "resume_case",
        )
        if resumed.response:
            dispatcher.utter_message(response=resumed.response, **resumed.values)
        return resumed.slots


async def _follow_ups_on_resume(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """What fell due while the case was away from a page that cannot be reached (the web
    page), shown now; then the follow-ups go to this conversation from now on."""
    from actions.follow_ups import plan_follow_ups, shown_while_away
    from riposte.store.errors import StoreError

    code = str(tracker.get_slot("case_code") or "")
    if not code:
        return
    try:
        shown = await call(repository().due_follow_ups_shown, code, **as_chat(tracker))
    except StoreError as error:
        log.error("follow-ups not read: %s", type(error).__name__)
        return
    shown_while_away(dispatcher, shown)
    await plan_follow_ups(dispatcher, tracker, code)


class ActionCaseResumed(Action):
    """After the resume form: show what the case holds, the deadlines, what comes next."""

    def name(self) -> str:
        return "action_case_resumed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        status = tracker.get_slot("resume_credentials")
        events: list[EventType] = [SlotSet("resume_credentials", None)]
        if status != "ok":
            return events
        slots = fact_slots(tracker)
        lines = triage.summary_lines(slots)
        dispatcher.utter_message(
            response="utter_case_resumed",
            code=tracker.get_slot("case_code"),
            facts="\n".join(lines) if lines else "-",
        )
        text = case.deadline_text(slots, today())
        if text:
            dispatcher.utter_message(response="utter_deadlines", deadlines=text)
        await _follow_ups_on_resume(dispatcher, tracker)
        if triage.missing_slots(slots) and triage.has_facts(slots):
            # Go on with the questions the triage had not asked yet.
            dispatcher.utter_message(response="utter_resume_continue_triage")
            return [*events, FollowupAction("triage_form")]
        else:
            dispatcher.utter_message(response="utter_resume_next")
        return events


class ActionAskDeleteCase(Action):
    """« Supprimer mon dossier » : say what will be erased and ask for confirmation."""

    def name(self) -> str:
        return "action_ask_delete_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if code:
            dispatcher.utter_message(response="utter_ask_delete_case", code=code)
        else:
            dispatcher.utter_message(response="utter_ask_delete_conversation")
        return []


class ActionDeleteCase(Action):
    """Confirmed: erase the case, its files, and every conversation linked to it.

    Other channels' conversations are erased here; this conversation is erased by the
    tracker store when it saves this turn (slot `erase_conversation`), since Rasa would
    otherwise write back the events it holds in memory.
    """

    def name(self) -> str:
        return "action_delete_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if code and not await call(case.delete_case, code, tracker.sender_id):
            dispatcher.utter_message(response="utter_delete_failed")
            return []
        dispatcher.utter_message(response="utter_case_deleted")
        return [SlotSet("erase_conversation", True)]


class ActionCancelForm(Action):
    """« Annuler » in the resume or evidence form: stop, keep the case as it is."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_cancelled")
        return [
            *(SlotSet(name, None) for name in EVIDENCE_SLOTS),
            SlotSet("resume_credentials", None),
            SlotSet("resume_attempts", 0.0),
            SlotSet("requested_slot", None),
        ]
