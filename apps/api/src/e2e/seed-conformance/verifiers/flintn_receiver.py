"""A receiver built from Flintn's webhook documentation (seed 001).

The seed's JavaScript and Python samples did not survive in the text; `verify` follows its
prose: "a Base64-encoded HMAC-SHA256 signature" in "an X-Signature-Primary header".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Mapping

from receiver_rules import (
    CapturedRequest,
    JsonObject,
    PublishedEvent,
    SeedRules,
)

# "All webhook requests include an X-Signature-Primary header containing a Base64-encoded
#  HMAC-SHA256 signature."
SIGNATURE_HEADER = "x-signature-primary"

# "Your server must respond within 30 seconds with a 2xx status code."
TIMEOUT_SECONDS = 30.0

# "Retry Policy ... 1 Immediate, 2 5 minutes, 3 30 minutes, 4 2 hours, 5 24 hours"
# "After 5 failed attempts, the webhook is disabled."
RETRY_WAITS_SECONDS = (5 * 60.0, 30 * 60.0, 2 * 3600.0, 24 * 3600.0)


def verify(raw_body: bytes, signature_header: str, secret: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature_header.encode())


def verify_request(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    return verify(raw_body, headers.get(SIGNATURE_HEADER, ""), secret)


def check_headers(request: CapturedRequest, _body: JsonObject | None) -> list[str]:
    if request.header(SIGNATURE_HEADER) is None:
        return ["missing X-Signature-Primary header"]
    return []


def expected_body(event: PublishedEvent) -> JsonObject:
    # "Handle duplicate events idempotently (use the event_id field)"
    return {"event_id": event.id, "event": event.type, "created_at": event.occurred_at, "data": event.data}


def body_identity(body: JsonObject) -> tuple[Any, ...]:
    return (body.get("event_id"),)


def event_identity(event: PublishedEvent) -> tuple[Any, ...]:
    return (event.id,)


def delivery_key(_request: CapturedRequest, body: JsonObject | None) -> str | None:
    # "Handle duplicate events idempotently (use the event_id field)"
    if body is None or not isinstance(body.get("event_id"), str):
        return None
    return str(body["event_id"])


def is_retried(status: int) -> bool:
    # "Note: 4xx client errors (except 429 Too Many Requests) are not retried"
    # "Return a non-2xx status only if you want the delivery to be retried"
    return not 400 <= status <= 499 or status == 429


RULES = SeedRules(
    seed="flintn",
    timeout_seconds=TIMEOUT_SECONDS,
    retry_waits_seconds=RETRY_WAITS_SECONDS,
    is_retried=is_retried,
    verify=verify_request,
    check_headers=check_headers,
    expected_body=expected_body,
    identity_names=("event_id",),
    body_identity=body_identity,
    event_identity=event_identity,
    delivery_key=delivery_key,
    time_keys=frozenset({"created_at"}),
)
