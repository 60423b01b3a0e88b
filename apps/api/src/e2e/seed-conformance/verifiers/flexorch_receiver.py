"""A receiver built from FlexOrch's webhook documentation (seed 002)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Mapping

from receiver_rules import (
    CapturedRequest,
    JsonObject,
    PublishedEvent,
    SeedRules,
    WHOLE_SECONDS_UTC,
    every_non_2xx_retried,
)

# "The signature is sent in the X-Flexorch-Signature header."
SIGNATURE_HEADER = "x-flexorch-signature"

# The seed names no timeout ("avoid timeouts that trigger retries"): Skyhook's default.
TIMEOUT_SECONDS = 10.0

# "If your endpoint returns a non-2xx HTTP status, FlexOrch retries the delivery once using
#  exponential backoff." The seed names no wait: Skyhook's profile waits 30 s.
RETRY_WAITS_SECONDS = (30.0,)

# The example payload's own keys; everything else in it is the job's.
ENVELOPE_KEYS = ("event", "timestamp")


def verify_signature(payload_body: bytes, secret: str, signature: str) -> bool:
    """The seed's sample: "an HMAC-SHA256 hash of the raw request body using the secret"."""
    expected = hmac.new(
        secret.encode(),
        payload_body,
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def verify_request(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    return verify_signature(raw_body, secret, headers.get(SIGNATURE_HEADER, ""))


def check_headers(request: CapturedRequest, _body: JsonObject | None) -> list[str]:
    if request.header(SIGNATURE_HEADER) is None:
        return ["missing X-Flexorch-Signature header"]
    return []


def expected_body(event: PublishedEvent) -> JsonObject:
    """{"event": type, ...data at top level..., "timestamp": occurredAt}.

    A data field named "event" or "timestamp" cannot be flattened without changing what those
    keys mean to the receiver; the envelope's values are the ones expected.
    """
    body: JsonObject = {"event": event.type}
    if isinstance(event.data, dict):
        body.update((key, value) for key, value in event.data.items() if key not in ENVELOPE_KEYS)
    body["timestamp"] = event.occurred_at
    return body


# The payload carries no event id: its type, then the whole body, say which event it is.
def body_identity(body: JsonObject) -> tuple[Any, ...]:
    return (body.get("event"),)


def event_identity(event: PublishedEvent) -> tuple[Any, ...]:
    return (event.type,)


def check_layout(body: JsonObject) -> list[str]:
    # The example payload: "event" first, the job's fields, "timestamp" last.
    keys = list(body)
    if keys and (keys[0] != "event" or keys[-1] != "timestamp"):
        return [f"body keys must start with event and end with timestamp, got {keys}"]
    return []


def delivery_key(request: CapturedRequest, _body: JsonObject | None) -> str | None:
    # No id in the payload: a retry is the same raw body again.
    return "body-sha256:" + hashlib.sha256(request.body).hexdigest()[:16]


RULES = SeedRules(
    seed="flexorch",
    timeout_seconds=TIMEOUT_SECONDS,
    retry_waits_seconds=RETRY_WAITS_SECONDS,
    # "If your endpoint returns a non-2xx HTTP status, FlexOrch retries the delivery once"
    is_retried=every_non_2xx_retried,
    verify=verify_request,
    check_headers=check_headers,
    expected_body=expected_body,
    identity_names=("event",),
    body_identity=body_identity,
    event_identity=event_identity,
    delivery_key=delivery_key,
    time_keys=frozenset({"timestamp"}),
    time_format=WHOLE_SECONDS_UTC,
    check_layout=check_layout,
)
