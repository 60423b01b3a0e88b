"""A receiver built from AviationAlley's webhook documentation (seed 004)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Mapping

from receiver_rules import (
    CapturedRequest,
    JsonObject,
    PublishedEvent,
    SeedRules,
    MILLISECONDS_UTC,
    every_non_2xx_retried,
)

# "Headers: X-AviationAlley-Signature (hex HMAC-SHA256 of the raw body), X-AviationAlley-Event
#  (event type), X-AviationAlley-Delivery (unique delivery id)."
SIGNATURE_HEADER = "x-aviationalley-signature"
EVENT_HEADER = "x-aviationalley-event"
DELIVERY_HEADER = "x-aviationalley-delivery"

# "Method: HTTPS POST, JSON body, 5-second timeout."
TIMEOUT_SECONDS = 5.0

# "Retries: failed deliveries retry with exponential backoff (5m, 30m, 2h, 8h — up to 5
#  attempts)."
RETRY_WAITS_SECONDS = (5 * 60.0, 30 * 60.0, 2 * 3600.0, 8 * 3600.0)


def verify(raw_body: bytes, signature_header: str, secret: str) -> bool:
    """The seed's Python sample."""
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature_header.encode())


def verify_request(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    # sig = request.headers.get("X-AviationAlley-Signature", "")
    return verify(raw_body, headers.get(SIGNATURE_HEADER, ""), secret)


def check_headers(request: CapturedRequest, body: JsonObject | None) -> list[str]:
    problems = [
        f"missing {name} header"
        for name in (SIGNATURE_HEADER, EVENT_HEADER, DELIVERY_HEADER)
        if request.header(name) is None
    ]
    if body is None:
        return problems
    # "type": "booking.created",    // matches X-AviationAlley-Event
    event = request.header(EVENT_HEADER)
    if event is not None and event != body.get("type"):
        problems.append(f"X-AviationAlley-Event {event!r} is not body.type {body.get('type')!r}")
    # "id": "del_8f2c…",          // matches X-AviationAlley-Delivery
    delivery = request.header(DELIVERY_HEADER)
    if delivery is not None and delivery != body.get("id"):
        problems.append(f"X-AviationAlley-Delivery {delivery!r} is not body.id {body.get('id')!r}")
    return problems


def expected_body(event: PublishedEvent) -> JsonObject:
    # Envelope: {"id", "type", "centerId", "createdAt", "data": { /* event-specific payload */ }};
    # "id" is the delivery id, checked against X-AviationAlley-Delivery.
    return {
        "type": event.type,
        "centerId": event.scope.get("centerId"),
        "createdAt": event.occurred_at,
        "data": event.data,
    }


# The body's id is a delivery id, not the event's: its type, then the whole body, say which
# event it is.
def body_identity(body: JsonObject) -> tuple[Any, ...]:
    return (body.get("type"),)


def event_identity(event: PublishedEvent) -> tuple[Any, ...]:
    return (event.type,)


def delivery_key(request: CapturedRequest, _body: JsonObject | None) -> str | None:
    # "X-AviationAlley-Delivery (unique delivery id)"
    return request.header(DELIVERY_HEADER) or None


RULES = SeedRules(
    seed="aviationalley",
    timeout_seconds=TIMEOUT_SECONDS,
    retry_waits_seconds=RETRY_WAITS_SECONDS,
    # "Any other status (or a timeout) is treated as a failure and retried."
    is_retried=every_non_2xx_retried,
    verify=verify_request,
    check_headers=check_headers,
    expected_body=expected_body,
    identity_names=("type",),
    body_identity=body_identity,
    event_identity=event_identity,
    delivery_key=delivery_key,
    time_keys=frozenset({"createdAt"}),
    time_format=MILLISECONDS_UTC,
    any_string_keys=frozenset({"id"}),
)
