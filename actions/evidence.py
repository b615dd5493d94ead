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

from actions.common import call, fact_slots, kept_answer, new_case_code, sync_case
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


async def case_for_evidence(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[str | None, list[EventType]]:
    """The conversation's case code, opening the case first (code and secret shown once) when
    there is none yet; None when the store is unavailable (the doctor has been told)."""
    code = tracker.get_slot("case_code")
    if code:
        return code, []
    events = await sync_case(dispatcher, tracker, fact_slots(tracker), create=True)
    return new_case_code(events), events


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


class ActionSaveEvidence(Action):
    """The evidence form is complete: journal the item (UTC timestamp) in the case."""

    def name(self) -> str:
        return "action_save_evidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        values = {name: tracker.get_slot(name) for name in EVIDENCE_SLOTS}
        reset = [SlotSet(name, None) for name in EVIDENCE_SLOTS]
        code, events = await case_for_evidence(dispatcher, tracker)
        if not code:
            return [*events, *reset]  # the store is unavailable: already said
        filed = await call(evidence.file_item, code, values, tracker.sender_id)
        if not filed.ok or filed.number is None:
            _not_filed(dispatcher, filed)
            return [*events, *reset]
        dispatcher.utter_message(
            response="utter_evidence_saved",
            number=filed.number,
            recorded=filed.recorded,
            upload=await call(upload_link, code, filed.number),
        )
        return [*events, *reset]


class ActionSaveEvidenceFile(Action):
    """A photo or document sent on Telegram or Signal: file it in the case's journal.

    The channel sealed the file in the store's inbox, bound to this conversation's sender, and
    sent `/send_evidence_file{"evidence_file_ref": …}`. The item (file, fingerprint, caption as
    the excerpt, UTC time) is written and the inbox entry deleted in one transaction. Without a
    case yet, one is opened first (its code and secret shown once), as for a typed item.
    """

    def name(self) -> str:
        return "action_save_evidence_file"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ref = next(tracker.get_latest_entity_values(FILE_REF), None) or tracker.get_slot(FILE_REF)
        reset: list[EventType] = [SlotSet(FILE_REF, None)]
        if not ref:
            dispatcher.utter_message(response="utter_evidence_file_missing")
            return reset
        code, events = await case_for_evidence(dispatcher, tracker)
        if not code:
            return [*events, *reset]  # the store is unavailable: already said
        filed = await call(evidence.file_received, code, str(ref), tracker.sender_id)
        if not filed.ok or filed.number is None:
            _not_filed(dispatcher, filed)
            return [*events, *reset]
        dispatcher.utter_message(
            response="utter_evidence_file_saved",
            number=filed.number,
            channel=evidence.channel_name(tracker.get_latest_input_channel()),
            recorded=filed.recorded,
            fingerprint=filed.fingerprint,
        )
        return [*events, *reset]
