"""What a call to the action server carries, as Rasa sends it (rasa_sdk's /webhook body): the
tests forge one to check that only Rasa, with the shared secret, is obeyed."""

from __future__ import annotations

from typing import Any


def action_call(action: str, case_code: str, sender: str = "forged") -> dict[str, Any]:
    """A call running `action` for `sender`, whose slots name the case `case_code` (after the
    doctor answered « oui »)."""
    tracker = {
        "sender_id": sender,
        "slots": {"case_code": case_code},
        "latest_message": {"text": "oui", "intent": {"name": "affirm"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": tracker,
    }
