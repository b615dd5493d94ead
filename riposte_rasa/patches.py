"""Changes to Rasa 3.6's own code paths, installed in every Rasa server that loads Riposte.

Rasa offers no plug-in point for these, so `install()` replaces a few methods of its classes,
in the Rasa process only. It is called by the classes Rasa loads from `endpoints.yml` (the
tracker store and the lock store), so a server started with Rasa's standard command
(`rasa run --endpoints endpoints.yml --credentials credentials.yml`) gets them too. It is
idempotent, and each replacement keeps the original's contract except for what is said below
(tests/channels/test_rasa_hooks.py).
Rasa is pinned to 3.6.21 (requirements.lock): re-check these against a new version.

1. Validation of the action server's answers. `RemoteAction._validate_action_result` calls
   `jsonschema.validate(answer, schema)` for every custom action, which checks the schema
   itself (Rasa's event schema: a large `oneOf`) and builds a validator each time: 18 ms per
   call on these machines, 16 % of the Rasa server's CPU in a triage conversation (py-spy).
   Here the validator is built and the schema checked once; the answer is validated exactly
   as before (same schema, same `ValidationError` with Rasa's explanation): 1.4 ms.

2. An action server that cannot run a custom action: unreachable, too slow, answering something
   that is not in Rasa's format, or an error other than 400 (a 400 is
   `ActionExecutionRejection`, which forms rely on: it is raised as before). Rasa logs the
   failure and carries on without the action's events: the doctor gets no reply, and the
   half-processed message stays in the conversation. Here, when
   this happens while Rasa handles a message (`MessageProcessor.handle_message`):
   - `RemoteAction.run` records the failure and returns no event (an error is logged for the
     operator: the action's name and the error's type, never a message's text);
   - `MessageProcessor.predict_next_with_tracker_if_should` then predicts `action_listen`:
     no other action runs for this message (each would fail the same way);
   - `MessageProcessor.save_tracker` saves nothing: the conversation stays exactly as it was
     before the message (no half-applied turn: slots and forms as before), so the same
     message sent again once the action server is back is handled as it would have been
     (what an action did before failing, say a case updated by an earlier action of the same
     message or by one that timed out, is not undone: sending the message again redoes it);
   - `MessageProcessor.handle_message` finally tells the doctor, through the message's own
     channel (`tell_not_processed`): `not_processed_message()` (riposte/settings.py), or the
     channel's `send_not_processed(recipient_id)` when it has one (REST: an HTTP 503;
     socket.io: the page's `riposte_error`, which puts the text back in the input).
   The same failure outside a message (Rasa's HTTP API, reminders) is raised as before.
   Reverting the turn with `UserUtteranceReverted` instead would not do: inside a form, Rasa's
   `applied_events` has already dropped the form turns' user events, so the revert would undo
   the whole form up to the message that started it.

3. A tracker store that fails. Rasa wraps it in `FailSafeTrackerStore`, which logs the error
   (with the database's error text) and falls back to an in-memory store: a conversation that
   cannot be read starts again empty (the doctor is answered as if new), and one that cannot
   be saved is kept in memory only, lost at the next restart, while the channel answers as if
   all went well. Here its two error callbacks log the error's type and raise it again: the
   message fails as a whole, nothing of it is written (the save is one transaction), and the
   channel says so (REST: 503, socket.io: `riposte_error`).

4. How long Rasa waits for a custom action: 5 minutes in Rasa (`DEFAULT_REQUEST_TIMEOUT`), so
   a hung action server kept the doctor waiting that long before item 2 could answer. Here
   `ACTION_TIMEOUT_SECONDS` (60 s; the slowest action, a letter in PDF and DOCX, takes well
   under a second): past it, the action server counts as unavailable (item 2).

5. Reading events. `Event.resolve_by_type` (every event read from the tracker store or from
   an action's answer) walks the whole tree of `Event` subclasses to find the class of a type
   name: about 0.09 ms per event, so 3 to 6 ms per turn for a conversation of a few dozen
   events (profile of the tracker store). Here the class found for a type name is kept; an
   unknown name goes to Rasa's own lookup each time (same default, same `ValueError`).
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rasa.core.actions.action import Action
    from rasa.core.channels.channel import OutputChannel, UserMessage
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.trackers import DialogueStateTracker

ACTION_TIMEOUT_SECONDS = 60
_LOG = logging.getLogger(__name__)
_INSTALLED: set[str] = set()
ORIGINALS: dict[str, Any] = {}  # what install() replaced, by name (for the tests)
# The custom actions that failed during the message being handled (item 2); None outside one.
_FAILED_ACTIONS: ContextVar[list[str] | None] = ContextVar("riposte_failed_actions", default=None)


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` (Rasa 3.6) with the validator built once."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


# ---------------------------------------------------------------------- 2. action server down


def action_server_unavailable(error: BaseException) -> bool:
    """True when `RemoteAction.run` failed because the action server could not run the action
    (connection refused or reset, timeout, an HTTP error other than 400, an answer that is not
    in Rasa's format)."""
    import aiohttp
    from jsonschema import ValidationError
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.exceptions import RasaException

    if isinstance(error, ActionExecutionRejection):
        return False
    # ValidationError: an answer that is not Rasa's format (item 1), e.g. a broken deployment.
    unavailable = (RasaException, aiohttp.ClientError, asyncio.TimeoutError, ValidationError)
    return isinstance(error, unavailable)


def _cause(error: BaseException) -> str:
    """The error's type, and its cause's (no message: it could quote the conversation)."""
    cause = error.__cause__ or error.__context__
    status = getattr(cause, "status", None)
    if cause is None:
        return type(error).__name__
    return f"{type(error).__name__} ← {type(cause).__name__}" + (
        f" (HTTP {status})" if isinstance(status, int) else ""
    )


async def _run_remote_action(
    self: Any,
    output_channel: OutputChannel,
    nlg: Any,
    tracker: DialogueStateTracker,
    domain: Any,
) -> list[Any]:
    """`RemoteAction.run` (Rasa 3.6); during a message, an action server that cannot run the
    action is recorded and no event returned, instead of an exception."""
    failed = _FAILED_ACTIONS.get()
    try:
        return list(await ORIGINALS["remote_run"](self, output_channel, nlg, tracker, domain))
    except Exception as error:
        if failed is None or not action_server_unavailable(error):
            raise
        _LOG.error(
            "action server unavailable: %s not run (%s); the message is not kept and the "
            "doctor is asked to send it again",
            self.name(),
            _cause(error),
        )
        failed.append(self.name())
        return []


def _predict_next_with_tracker_if_should(
    self: Any, tracker: DialogueStateTracker
) -> tuple[Action, PolicyPrediction]:
    """`MessageProcessor.predict_next_with_tracker_if_should` (Rasa 3.6); `action_listen` once
    an action of the message failed (the message's turn ends there)."""
    if _FAILED_ACTIONS.get():
        from rasa.core.actions.action import action_for_name_or_text
        from rasa.core.policies.policy import PolicyPrediction
        from rasa.shared.core.constants import ACTION_LISTEN_NAME

        action = action_for_name_or_text(ACTION_LISTEN_NAME, self.domain, self.action_endpoint)
        return action, PolicyPrediction.for_action_name(self.domain, ACTION_LISTEN_NAME)
    return ORIGINALS["predict"](self, tracker)


async def _save_tracker(self: Any, tracker: DialogueStateTracker) -> None:
    """`MessageProcessor.save_tracker` (Rasa 3.6); nothing is saved once an action of the
    message failed: the conversation stays as it was before the message."""
    if _FAILED_ACTIONS.get():
        _LOG.info("conversation left as it was before the message (action server unavailable)")
        return
    await ORIGINALS["save_tracker"](self, tracker)


async def tell_not_processed(output_channel: OutputChannel, recipient_id: str) -> None:
    """Tell the doctor that their last message was not taken into account: the channel's own
    way (`send_not_processed`) if it has one, else `not_processed_message()` as a message."""
    from riposte.settings import not_processed_message

    own_way = getattr(output_channel, "send_not_processed", None)
    if own_way is not None:
        await own_way(recipient_id)
    else:
        await output_channel.send_text_message(recipient_id, not_processed_message())


async def _handle_message(self: Any, message: UserMessage) -> list[dict[str, Any]] | None:
    """`MessageProcessor.handle_message` (Rasa 3.6); when a custom action of the message could
    not run, the doctor is told instead (nothing was saved: see the functions above)."""
    from rasa.core.channels.channel import CollectingOutputChannel

    failed: list[str] = []
    token = _FAILED_ACTIONS.set(failed)
    try:
        result = await ORIGINALS["handle_message"](self, message)
    finally:
        _FAILED_ACTIONS.reset(token)
    if not failed:
        return result
    await tell_not_processed(message.output_channel, message.sender_id)
    if isinstance(message.output_channel, CollectingOutputChannel):
        return message.output_channel.messages
    return None


# ---------------------------------------------------------------------- 3. tracker store down


def _tracker_store_failed(self: Any, error: Exception) -> None:
    """`FailSafeTrackerStore.on_tracker_store_error` and `on_tracker_store_retrieve_error`
    (Rasa 3.6), called from their `except` blocks: the error is raised again, so that the
    message fails instead of going to (or starting from) an in-memory store."""
    _LOG.error("tracker store unavailable (%s): the message is not processed", _cause(error))
    raise error


_EVENT_TYPES: dict[str, type] = {}


def _resolve_event_type(type_name: str, default: type | None = None) -> type | None:
    """`Event.resolve_by_type` with the class found for each type name kept (item 5)."""
    known = _EVENT_TYPES.get(type_name)
    if known is not None:
        return known
    found = ORIGINALS["resolve_by_type"](type_name, default)
    if found is not None and getattr(found, "type_name", None) == type_name:
        _EVENT_TYPES[type_name] = found
    return found


def _replace(owner: type, attribute: str, key: str, replacement: Any) -> None:
    """Set `owner.attribute` to `replacement`, keeping the original in `ORIGINALS[key]`
    (never a replacement of ours, should the name have been set again meanwhile)."""
    current = getattr(owner, attribute)
    if current is not replacement:
        ORIGINALS[key] = current
        setattr(owner, attribute, replacement)


def install() -> None:
    """Install the changes above in this process (once)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore

    if "validator" not in _INSTALLED:
        ORIGINALS["validator"] = RemoteAction._validate_action_result
        RemoteAction._validate_action_result = _validate_action_result
        _INSTALLED.add("validator")
        _LOG.debug("action answers validated with a cached jsonschema validator")
    if "action_server_down" not in _INSTALLED:
        _replace(RemoteAction, "run", "remote_run", _run_remote_action)
        _replace(
            MessageProcessor,
            "predict_next_with_tracker_if_should",
            "predict",
            _predict_next_with_tracker_if_should,
        )
        _replace(MessageProcessor, "save_tracker", "save_tracker", _save_tracker)
        _replace(MessageProcessor, "handle_message", "handle_message", _handle_message)
        _INSTALLED.add("action_server_down")
        _LOG.debug("a message whose custom action cannot run is not kept and is answered")
    if "action_timeout" not in _INSTALLED:
        import rasa.core.actions.action as action_module

        ORIGINALS.setdefault("action_timeout", action_module.DEFAULT_REQUEST_TIMEOUT)
        action_module.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_SECONDS
        _INSTALLED.add("action_timeout")
    if "tracker_store_down" not in _INSTALLED:
        _replace(
            FailSafeTrackerStore, "on_tracker_store_error", "store_error", _tracker_store_failed
        )
        _replace(
            FailSafeTrackerStore,
            "on_tracker_store_retrieve_error",
            "store_retrieve_error",
            _tracker_store_failed,
        )
        _INSTALLED.add("tracker_store_down")
        _LOG.debug("tracker store errors fail the message instead of falling back to memory")
    if "event_types" not in _INSTALLED:
        from rasa.shared.core.events import Event

        if Event.resolve_by_type is not _resolve_event_type:
            ORIGINALS["resolve_by_type"] = Event.resolve_by_type
            Event.resolve_by_type = staticmethod(_resolve_event_type)
        _INSTALLED.add("event_types")
