"""Shared base of the OpenAI protocol models."""

from __future__ import annotations

import functools
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, model_validator

__all__ = ["OpenAIBaseModel"]

logger = logging.getLogger(__name__)


class OpenAIBaseModel(BaseModel):
    """Ignores fields it does not know, as OpenAI-compatible servers do, but says so in the logs.

    Clients written for newer OpenAI APIs send fields we do not implement; refusing them would break the
    official client, silently dropping them would hide surprises.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="wrap")
    @classmethod
    def _log_ignored_fields(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        result = handler(data)
        if isinstance(data, dict):
            ignored = sorted(set(data) - _known_names(cls))
            if ignored:
                logger.warning("%s: ignored unknown fields %s", cls.__name__, ignored)
        return result


@functools.cache
def _known_names(model: type[BaseModel]) -> frozenset[str]:
    # Aliases count as known names (e.g. the "schema" key of a JSON schema response format).
    names = set(model.model_fields)
    names.update(field.alias for field in model.model_fields.values() if field.alias)
    return frozenset(names)
