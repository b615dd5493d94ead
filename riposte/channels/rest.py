"""The REST channel (`/webhooks/rest/webhook`) with the sender id pseudonymised."""

from __future__ import annotations

from rasa.core.channels.rest import RestInput as _RasaRestInput
from sanic.request import Request

from riposte.privacy import pseudonymise

CHANNEL = "rest"


class RestInput(_RasaRestInput):
    """Same URL and JSON as Rasa's REST channel; Rasa only ever sees the pseudonym.

    The replies carry the pseudonym as `recipient_id`; the client keeps using its own id.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def _extract_sender(self, req: Request) -> str | None:
        body = req.json or {}
        sender = body.get("sender")
        if sender is None:
            return None
        return pseudonymise(CHANNEL, str(sender))
