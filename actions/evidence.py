"""Evidence from the chat: the evidence form's answers checked one by one, then journaled in
the case; a file received on Telegram or Signal filed the same way (riposte/chat/evidence.py
does the work)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import OFFER_EVIDENCE, OFFER_FILE, call, kept_answer, offer_case
from actions.danger import DangerFirstForm
from riposte.chat import evidence
from riposte.chat.evidence import EVIDENCE_SLOTS, FILE_REF
from riposte.nlp import evidence as evidence_input


class ValidateEvidenceForm(DangerFirstForm):
    """Each answer of the evidence form, read and checked (nothing typed is lost).

    A danger said in an answer (a threat quoted as the excerpt) gets the emergency reply
    first (DangerFirstForm); the answer is still read.
    """

    def name(self) -> str:
        return "validate_evidence_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") in EVIDENCE_SLOTS:
            events += [SlotSet(name, value) for name, value in kept_answer(tracker).items()]
        return events

    def _check(
        self, slot: str, answer: evidence_input.Answer, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if answer.ok:
            return {slot: answer.value}
        dispatcher.utter_message(response=f"utter_evidence_{answer.error}")
        return {slot: None}

    async def validate_evidence_url(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._check("evidence_url", evidence_input.read_url(str(slot_value)), dispatcher)

    async def validate_evidence_seen_at(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        answer = evidence_input.read_seen_at(str(slot_value), datetime.now(timezone.utc))
        return self._check("evidence_seen_at", answer, dispatcher)

    async def validate_evidence_author(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        answer = evidence_input.read_author(str(slot_value))
        return self._check("evidence_author", answer, dispatcher)

    async def validate_evidence_excerpt(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        answer = evidence_input.read_excerpt(str(slot_value))
        return self._check("evidence_excerpt", answer, dispatcher)

    async def validate_evidence_published_at(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """« De quand date ce message ? » : its own prescription deadline runs from that day."""
        answer = evidence_input.read_published_at(
            str(slot_value), tracker.get_slot("evidence_seen_at"), datetime.now(timezone.utc)
        )
        return self._check("evidence_published_at", answer, dispatcher)


def upload_link(code: str, number: int) -> str:
    """The signed link of the page where the doctor attaches the screenshot of item `number`."""
    from riposte.letters.links import make_token
    from riposte.settings import Settings
    from riposte.web.uploads import UPLOAD_PATH, upload_key

    token = make_token(upload_key(), code, number)
    return f"{Settings.from_env().public_url}{UPLOAD_PATH}{token}"


def _not_filed(dispatcher: CollectingDispatcher, filed: evidence.Filed) -> None:
    if filed.refused:
        dispatcher.utter_message(text=filed.refused)
    elif filed.error:
        dispatcher.utter_message(response=filed.error)


def typed_item(tracker: Tracker) -> dict[str, Any]:
    """The evidence form's answers, by slot."""
    return {name: tracker.get_slot(name) for name in EVIDENCE_SLOTS}


async def file_typed(
    dispatcher: CollectingDispatcher, tracker: Tracker, code: str
) -> list[EventType]:
    """Journal the evidence form's answers in case `code`; the form's slots are emptied."""
    reset: list[EventType] = [SlotSet(name, None) for name in EVIDENCE_SLOTS]
    filed = await call(evidence.file_item, code, typed_item(tracker), tracker.sender_id)
    if not filed.ok or filed.number is None:
        _not_filed(dispatcher, filed)
        return reset
    dispatcher.utter_message(
        response="utter_evidence_saved",
        number=filed.number,
        recorded=filed.recorded,
        upload=await call(upload_link, code, filed.number),
    )
    return reset


async def file_sent(
    dispatcher: CollectingDispatcher, tracker: Tracker, code: str, ref: str
) -> list[EventType]:
    """File the received file `ref` (in the store's inbox) in case `code`."""
    reset: list[EventType] = [SlotSet(FILE_REF, None)]
    filed = await call(evidence.file_received, code, ref, tracker.sender_id)
    if not filed.ok or filed.number is None:
        _not_filed(dispatcher, filed)
        return reset
    dispatcher.utter_message(
        response="utter_evidence_file_saved",
        number=filed.number,
        channel=evidence.channel_name(tracker.get_latest_input_channel()),
        recorded=filed.recorded,
        fingerprint=filed.fingerprint,
    )
    return reset


async def file_pending(
    dispatcher: CollectingDispatcher, tracker: Tracker, code: str
) -> list[EventType]:
    """The evidence item or the file that waited for the doctor's yes to a case file (slot
    `case_offer`), filed in the case just opened."""
    offer = tracker.get_slot("case_offer")
    if offer == OFFER_EVIDENCE and any(tracker.get_slot(name) for name in EVIDENCE_SLOTS):
        return await file_typed(dispatcher, tracker, code)
    ref = tracker.get_slot(FILE_REF)
    if offer == OFFER_FILE and ref:
        return await file_sent(dispatcher, tracker, code, str(ref))
    return []


class ActionSaveEvidence(Action):
    """The evidence form is complete: journal the item (UTC timestamp) in the case.

    Without a case file, it is offered first (the journal is kept there); the answers wait in
    their slots for the doctor's yes (action_open_case files them) or no (given back).
    """

    def name(self) -> str:
        return "action_save_evidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if not code:
            return offer_case(dispatcher, "utter_case_offer_evidence", OFFER_EVIDENCE)
        return await file_typed(dispatcher, tracker, str(code))


class ActionSaveEvidenceFile(Action):
    """A photo or document sent on Telegram or Signal: file it in the case's journal.

    The channel sealed the file in the store's inbox, bound to this conversation's sender, and
    sent `/send_evidence_file{"evidence_file_ref": …}`. The item (file, fingerprint, caption as
    the excerpt, UTC time) is written and the inbox entry deleted in one transaction. Without a
    case file, it is offered first: the file waits in the inbox for the doctor's yes
    (action_open_case files it), and a no deletes it.
    """

    def name(self) -> str:
        return "action_save_evidence_file"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ref = next(tracker.get_latest_entity_values(FILE_REF), None) or tracker.get_slot(FILE_REF)
        if not ref:
            dispatcher.utter_message(response="utter_evidence_file_missing")
            return [SlotSet(FILE_REF, None)]
        code = tracker.get_slot("case_code")
        if not code:
            offered = offer_case(dispatcher, "utter_case_offer_file", OFFER_FILE)
            return [SlotSet(FILE_REF, ref), *offered]
        return await file_sent(dispatcher, tracker, str(code), str(ref))
