"""Changes to Rasa 3.6's own code paths, installed in every Rasa server that loads Riposte.

Rasa offers no plug-in point for these, so `install()` replaces one method of its classes, in
the Rasa process only. It is called by the classes Rasa loads from `endpoints.yml` (the
tracker store and the lock store), so a server started with Rasa's standard command
(`rasa run --endpoints endpoints.yml --credentials credentials.yml`) gets them too. It is
idempotent, and each replacement keeps the original's contract (tests/channels/test_rasa_hooks.py).
Rasa is pinned to 3.6.21 (requirements.lock): re-check these against a new version.

1. Validation of the action server's answers. `RemoteAction._validate_action_result` calls
   `jsonschema.validate(answer, schema)` for every custom action, which checks the schema
   itself (Rasa's event schema: a large `oneOf`) and builds a validator each time: 18 ms per
   call on these machines, 16 % of the Rasa server's CPU in a triage conversation (py-spy).
   Here the validator is built and the schema checked once; the answer is validated exactly
   as before (same schema, same `ValidationError` with Rasa's explanation): 1.4 ms.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

_LOG = logging.getLogger(__name__)
_INSTALLED: set[str] = set()
ORIGINALS: dict[str, Any] = {}  # what install() replaced, by name (for the tests)


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


def install() -> None:
    """Install the changes above in this process (once)."""
    from rasa.core.actions.action import RemoteAction

    if "validator" not in _INSTALLED:
        ORIGINALS["validator"] = RemoteAction._validate_action_result
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
        _INSTALLED.add("validator")
        _LOG.debug("action answers validated with a cached jsonschema validator")
