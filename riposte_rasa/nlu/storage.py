"""Reading a trained component's files from Rasa's model storage, with a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

T = TypeVar("T")


def read_saved(
    model_storage: ModelStorage, resource: Resource, read: Callable[[Path], T], what: str
) -> T:
    """`read(directory)` on the component's directory; a missing or unreadable file stops
    with a message naming `what` and saying to train again."""
    try:
        with model_storage.read_from(resource) as directory:
            return read(directory)
    except (ValueError, FileNotFoundError) as error:
        raise ValueError(
            f"{what} is missing from the trained model ({error}): run `make train`"
        ) from error
