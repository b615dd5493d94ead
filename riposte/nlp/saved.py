"""Saving and reading the trained models (the facts model, the intent model) as bytes.

joblib (scikit-learn's own format) inside the model archive, which is trusted: it is trained
here by `make train`. A file that is not a model of the expected class and format version is
refused with a message saying to train again.
"""

from __future__ import annotations

import io
from typing import Any, TypeVar

__all__ = ["from_bytes", "to_bytes"]

T = TypeVar("T")


def to_bytes(model: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes, kind: type[T], version: int, what: str) -> T:
    """The model saved in `data`, if it is a `kind` of format `version` (`what` names it)."""
    import joblib

    model = joblib.load(io.BytesIO(data))
    if not isinstance(model, kind) or getattr(model, "version", None) != version:
        raise ValueError(f"not {what} of this version: train the model again")
    return model
