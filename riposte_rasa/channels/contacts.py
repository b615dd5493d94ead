"""How Telegram and Signal reach a conversation for a follow-up (riposte/scheduler.py).

Rasa knows a Telegram or Signal conversation by a pseudonym, and the real chat id or number
only while the doctor's message is handled. A follow-up comes later, from Rasa's
`trigger_intent` API, with the pseudonym alone. So, after each message of a conversation that
has follow-ups due, the channel keeps its address in the case store's address book
(`contacts`: sealed, bound to the channel and the conversation; forgotten when no follow-up
is due any more, and with the case); and the output channel Rasa gets for `trigger_intent`
(`Directory`) finds the address there. Addresses are never logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel

logger = logging.getLogger(__name__)


class NoAddressError(RuntimeError):
    """No address is kept for this conversation: the follow-up cannot be delivered."""


async def _store(method: str, *args: Any) -> Any:
    """Call a case-store method in a worker thread (the store is blocking)."""
    from riposte.store.repository import shared_repository

    call = functools.partial(getattr(shared_repository(), method), *args)
    return await asyncio.get_running_loop().run_in_executor(None, call)


async def remember(channel: str, sender_id: str, address: str) -> None:
    """After a message: keep (or forget) how to reach `sender_id`; failures are logged only."""
    try:
        await _store("remember_contact", channel, sender_id, address)
    except Exception as error:  # the message itself was handled
        logger.error("%s: address book not updated (%s)", channel, type(error).__name__)


async def address_of(channel: str, sender_id: str) -> str:
    """The address kept for `sender_id`; `NoAddressError` when there is none."""
    address = await _store("contact_address", channel, sender_id)
    if not address:
        logger.warning("%s: no address kept for a follow-up's conversation", channel)
        raise NoAddressError(channel)
    return str(address)


class Directory(OutputChannel):
    """The output channel for Rasa's HTTP API: every reply goes to the address the address
    book keeps for the recipient (a pseudonym); none kept raises `NoAddressError`, and Rasa
    answers 500 (the scheduler tries again later)."""

    def __init__(self, channel: str, output: Callable[[str, str], OutputChannel]) -> None:
        self.channel = channel
        self.output = output  # (address, pseudonym) -> the channel's output for that address

    def name(self) -> str:
        return self.channel

    async def _to(self, recipient_id: str) -> tuple[OutputChannel, str]:
        address = await address_of(self.channel, recipient_id)
        return self.output(address, recipient_id), address

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        output, address = await self._to(recipient_id)
        await output.send_text_message(address, text, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        output, address = await self._to(recipient_id)
        await output.send_text_with_buttons(address, text, buttons, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        output, address = await self._to(recipient_id)
        await output.send_image_url(address, image, **kwargs)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        output, address = await self._to(recipient_id)
        await output.send_attachment(address, attachment, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        output, address = await self._to(recipient_id)
        await output.send_custom_json(address, json_message, **kwargs)
