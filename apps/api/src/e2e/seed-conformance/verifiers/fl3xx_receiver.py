"""A receiver for FL3XX (seed 003), which documents subscriptions but not deliveries.

The seed says nothing about signing, payloads or retries ("Create a new webhook subscription
for receiving near real-time event notifications."), so Skyhook's profile is Standard
Webhooks (https://www.standardwebhooks.com) with Skyhook's envelope and retry defaults, and
`verify` follows that specification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any, Mapping

from receiver_rules import (
    CapturedRequest,
    JsonObject,
    PublishedEvent,
    SeedRules,
    is_canonical_integer,
    is_fresh,
)

# Standard Webhooks: "webhook-id", "webhook-timestamp", "webhook-signature".
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"

# Standard Webhooks: reject timestamps more than five minutes away from now (replay).
TIMESTAMP_TOLERANCE_SECONDS = 300

# Skyhook's defaults, the seed having none.
TIMEOUT_SECONDS = 10.0
RETRY_WAITS_SECONDS = (5.0, 5 * 60.0, 30 * 60.0, 2 * 3600.0, 5 * 3600.0, 10 * 3600.0, 10 * 3600.0)


def signing_key(secret: str) -> bytes:
    """Standard Webhooks: the secret is base64 after the whsec_ prefix."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def verify(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Standard Webhooks: HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>", base64, any
    space-separated "v1,<signature>" entry may match."""
    msg_id = headers.get(ID_HEADER)
    msg_timestamp = headers.get(TIMESTAMP_HEADER)
    msg_signature = headers.get(SIGNATURE_HEADER)
    if not msg_id or not msg_timestamp or not msg_signature:
        return False
    try:
        key = signing_key(secret)
    except (binascii.Error, ValueError):
        return False
    signed = f"{msg_id}.{msg_timestamp}.".encode() + raw_body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for versioned_signature in msg_signature.split(" "):
        version, _, signature = versioned_signature.partition(",")
        if version == "v1" and hmac.compare_digest(expected, signature.encode()):
            return True
    return False


def other_secret(secret: str) -> str:
    """A well-formed whsec_ secret whose key differs from this one in one bit."""
    try:
        key = bytearray(signing_key(secret))
    except (binascii.Error, ValueError):
        return secret + "x"
    if not key:
        return SECRET_PREFIX + base64.b64encode(b"\x01").decode()
    key[-1] ^= 0x01
    return SECRET_PREFIX + base64.b64encode(bytes(key)).decode()


def check_headers(request: CapturedRequest, _body: JsonObject | None) -> list[str]:
    problems = [
        f"missing {name} header"
        for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
        if not request.header(name)
    ]
    timestamp = request.header(TIMESTAMP_HEADER)
    if timestamp:
        if not is_canonical_integer(timestamp):
            problems.append(f"webhook-timestamp {timestamp!r} is not integer unix seconds")
        elif not is_fresh(int(timestamp), request.received_at, TIMESTAMP_TOLERANCE_SECONDS):
            problems.append(
                f"webhook-timestamp is {request.received_at - int(timestamp):.0f}s from arrival, "
                f"more than {TIMESTAMP_TOLERANCE_SECONDS}s"
            )
    signature = request.header(SIGNATURE_HEADER)
    if signature:
        entries = signature.split(" ")
        malformed = [entry for entry in entries if entry.count(",") != 1 or "" in entry.split(",")]
        if malformed:
            problems.append(f"webhook-signature has malformed entries {malformed}")
        if not any(entry.startswith("v1,") for entry in entries):
            problems.append("webhook-signature has no v1 entry")
    return problems


def expected_body(event: PublishedEvent) -> JsonObject:
    # Skyhook's envelope; organisationId is the publisher's, which the capture does not carry.
    return {
        "id": event.id,
        "type": event.type,
        "scope": event.scope,
        "createdAt": event.occurred_at,
        "data": event.data,
    }


def body_identity(body: JsonObject) -> tuple[Any, ...]:
    return (body.get("id"),)


def event_identity(event: PublishedEvent) -> tuple[Any, ...]:
    return (event.id,)


def delivery_key(request: CapturedRequest, _body: JsonObject | None) -> str | None:
    # Standard Webhooks: webhook-id is the same on every attempt of one message.
    return request.header(ID_HEADER) or None


def is_retried(status: int) -> bool:
    # Skyhook's default: 5xx, 408 and 429 are retried; any other 4xx is final.
    return not 400 <= status <= 499 or status in (408, 429)


RULES = SeedRules(
    seed="fl3xx",
    timeout_seconds=TIMEOUT_SECONDS,
    retry_waits_seconds=RETRY_WAITS_SECONDS,
    is_retried=is_retried,
    verify=verify,
    check_headers=check_headers,
    expected_body=expected_body,
    identity_names=("id",),
    body_identity=body_identity,
    event_identity=event_identity,
    delivery_key=delivery_key,
    wrong_secret=other_secret,
    time_keys=frozenset({"createdAt"}),
    any_string_keys=frozenset({"organisationId"}),
)
