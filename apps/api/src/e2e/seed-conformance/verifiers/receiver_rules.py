"""What each seed's receiver module provides, and the helpers those modules share.

A seed module describes one company's webhook documentation as a receiver built from it
would apply it: how the signature is verified, which headers must be there, what the body
looks like, how the attempts of one delivery are recognised, and the retry schedule.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

JsonObject = dict[str, Any]

# verify(raw body, request headers (lower-case names), secret) -> the signature verifies
Verifier = Callable[[bytes, Mapping[str, str], str], bool]


@dataclass(frozen=True)
class PublishedEvent:
    """One event as the test published it (Skyhook's event envelope)."""

    id: str
    type: str
    scope: JsonObject
    occurred_at: str
    data: Any

    def data_field(self, name: str) -> Any:
        return self.data.get(name) if isinstance(self.data, dict) else None


@dataclass(frozen=True)
class CapturedRequest:
    """One HTTP request the receiver got, and what it answered."""

    index: int  # position in the capture's "requests" array
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    received_at: float
    status: int | None  # None: the sender hung up before the receiver had answered anything
    delay_seconds: float
    client_closed_at: float | None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class SeedRules:
    """Everything a receiver built from one seed's documentation checks and expects."""

    seed: str
    timeout_seconds: float
    # Wait before attempt 2, 3, ... (unscaled seconds); the last allowed attempt has none.
    retry_waits_seconds: tuple[float, ...]
    # For an answered non-2xx status: does the sender try again?
    is_retried: Callable[[int], bool]
    verify: Verifier
    # Header problems, given the parsed body when there is one (header/body consistency).
    check_headers: Callable[[CapturedRequest, JsonObject | None], list[str]]
    # The body a published event must arrive as.
    expected_body: Callable[[PublishedEvent], JsonObject]
    # The fields naming which published event a body is, read from the body and from the event.
    identity_names: tuple[str, ...]
    body_identity: Callable[[JsonObject], tuple[Any, ...]]
    event_identity: Callable[[PublishedEvent], tuple[Any, ...]]
    # The key a receiver de-duplicates on: every attempt of one delivery shares it.
    delivery_key: Callable[[CapturedRequest, JsonObject | None], str | None]
    # A different secret of the same kind, for the self-test.
    wrong_secret: Callable[[str], str] = lambda secret: secret + "x"
    # Body keys holding a time: compared as instants with the published occurredAt.
    time_keys: frozenset[str] = frozenset()
    # How the seed prints those times, where its example shows one: each must match it.
    time_format: TimeFormat | None = None
    # Body keys the published event does not determine: any non-empty string.
    any_string_keys: frozenset[str] = frozenset()
    # Anything else about the body's layout (such as key order).
    check_layout: Callable[[JsonObject], list[str]] = lambda _body: []
    # The seed's own sample verifier where it is stricter than `verify` (a warning only).
    sample_verify: Verifier | None = None

    @property
    def max_attempts(self) -> int:
        return len(self.retry_waits_seconds) + 1


def is_success(status: int) -> bool:
    return 200 <= status <= 299


def every_non_2xx_retried(_status: int) -> bool:
    """For seeds that retry whatever non-2xx status they get."""
    return True


def parse_json_object(raw: bytes) -> tuple[JsonObject | None, str | None]:
    """The body as a JSON object, or the reason it is not one (duplicate keys count as broken)."""

    duplicates: list[str] = []

    def object_without_duplicates(pairs: list[tuple[str, Any]]) -> JsonObject:
        result: JsonObject = {}
        for key, value in pairs:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=object_without_duplicates,
            parse_constant=reject_constant,
        )
    except UnicodeDecodeError:
        return None, "body is not UTF-8"
    except ValueError as error:
        return None, f"body is not valid JSON ({error})"
    if not isinstance(value, dict):
        return None, f"body is JSON but not an object ({type(value).__name__})"
    if duplicates:
        return None, f"body has duplicate keys {sorted(set(duplicates))}"
    return value, None


@dataclass(frozen=True)
class TimeFormat:
    """How a seed prints the times in its bodies."""

    pattern: re.Pattern[str]
    # No fraction: times are compared with the published one to the second.
    whole_seconds: bool


# "2026-05-30T18:09:12Z": UTC, whole seconds.
WHOLE_SECONDS_UTC = TimeFormat(re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), whole_seconds=True)
# "2026-05-31T14:03:22.000Z": UTC, milliseconds.
MILLISECONDS_UTC = TimeFormat(re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"), whole_seconds=False)


def parse_instant(value: Any) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 date-time with a zone offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def is_fresh(timestamp: int, received_at: float, tolerance_seconds: float) -> bool:
    return abs(received_at - timestamp) <= tolerance_seconds


def is_canonical_integer(text: str) -> bool:
    """Digits only, no sign, no leading zero: reads the same to every integer parser."""
    return text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))
