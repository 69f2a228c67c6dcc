"""HubSpot batch writes: inputs in batches of 100, and the inputs HubSpot refuses, one by one.

HubSpot refuses bad inputs of a batch write in two ways: a 207 answer names them (``errors[].context
.inputIndexes``) and applies the rest; or a 400 refuses the whole batch (live HubSpot often does for one
bad value, and for a value breaking one of the portal's validation rules). ``batched`` splits a batch
refused whole in halves until the bad inputs stand alone, so the rest of the batch is applied and each
refused input gets its own ``Refusal`` (code and property), which callers turn into a rejected row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from behavior_sync.destinations.hubspot_errors import HubSpotError, Refusal

MAX_BATCH_INPUTS = 100  # contacts batch read/upsert/update inputs per request (reference §3.2)
Sent = tuple[dict[str, str], dict[str, Refusal]]  # (results by input, refusals by input)


def chunks(items: Sequence[str], size: int = MAX_BATCH_INPUTS) -> Iterable[Sequence[str]]:
    """``items`` in slices of at most ``size`` (HubSpot batch inputs)."""
    return (items[i : i + size] for i in range(0, len(items), size))


def batched(items: Sequence[str], send: Callable[[Sequence[str]], Sent]) -> Sent:
    """Sends ``items`` in batches of 100; (merged results, merged refusals). A batch HubSpot refuses whole as
    invalid (400) is split in halves and re-sent until the bad inputs stand alone, which are refused with
    HubSpot's code and property. Other errors raise ``HubSpotError``."""
    done: dict[str, str] = {}
    refused: dict[str, Refusal] = {}
    pending = list(chunks(items))
    while pending:
        part = pending.pop()
        try:
            ok, bad = send(part)
        except HubSpotError as exc:
            if exc.status != 400:
                raise
            if len(part) == 1:
                refused[part[0]] = exc.refusal()
            else:
                pending += [part[: len(part) // 2], part[len(part) // 2 :]]
            continue
        done |= ok
        refused |= bad
    return done, refused


def refused_inputs(part: Sequence[str], errors: Iterable[Any]) -> dict[str, Refusal]:
    """Input (e-mail or id) -> HubSpot's refusal, for each input a 207 answer refused (``context.inputIndexes``)."""
    refused: dict[str, Refusal] = {}
    for error in errors:
        refusal = Refusal.of_error(error.to_dict(serialize=True))  # HubSpot's JSON names ("in")
        for index in (error.context or {}).get("inputIndexes") or ():
            if str(index).isdigit() and int(index) < len(part):
                refused[part[int(index)]] = refusal
    return refused
