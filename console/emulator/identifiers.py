"""Communication identifiers as the service reads them from requests.

Raw ids, their kinds and the identifier models written back are the console's own
(:mod:`console.acs.identifiers`): one classifier for both sides of the wire. What is particular
to requests is here: ``source`` and ``answeredBy`` arrive as ``{"id": "8:acs:..."}``.
"""

from __future__ import annotations

from typing import Any

from console.acs.identifiers import identifier_model, kind_of, raw_id_from_model

__all__ = ["identifier_model", "kind_of", "raw_id_of"]


def raw_id_of(model: Any) -> str | None:
    """The raw id of a request identifier: ``rawId``, else built from the typed sub-object, else
    the ``{"id": …}`` form of ``source``/``answeredBy``."""
    raw = raw_id_from_model(model)
    if raw is None and isinstance(model, dict):
        ident = model.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return raw
