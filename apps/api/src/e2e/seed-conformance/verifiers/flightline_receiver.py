"""A receiver built from Flightline's webhook documentation (seed 000)."""

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
    is_canonical_integer,
    is_fresh,
    every_non_2xx_retried,
)

# "The signature is sent in the X-Flightline-Signature header as t=<timestamp>,v1=<hex-hmac>"
SIGNATURE_HEADER = "x-flightline-signature"

# "Reject any delivery whose signature doesn't verify, or whose t timestamp is more than 5
#  minutes old, to prevent replay."
TIMESTAMP_TOLERANCE_SECONDS = 300

# "Return a 2xx quickly (within ~10s) to acknowledge; we time out a slow endpoint and retry."
TIMEOUT_SECONDS = 10.0

# "Retries: up to 3 attempts with exponential backoff (~0.5s, 1s) on a non-2xx response or
#  transport error."
RETRY_WAITS_SECONDS = (0.5, 1.0)

# Payload: {"event", "review_id", "reference_id", "status", "occurred_at"}
# "The payload intentionally carries only identifiers and status"
DATA_FIELDS = ("review_id", "reference_id", "status")


def verify(raw_body: bytes, header: str, secret: str) -> bool:
    """The seed's sample, except that every v1= entry is tried (secret rotation).

    "the HMAC is HMAC_SHA256(secret, "<t>.<raw-body>") using the signing secret shown when
    you register the endpoint."
    """
    pairs = [part.split("=", 1) for part in header.split(",")]
    if any(len(pair) != 2 for pair in pairs):
        return False
    timestamps = [value for name, value in pairs if name == "t"]
    signatures = [value for name, value in pairs if name == "v1"]
    if len(timestamps) != 1:
        return False
    try:
        signed = f"{timestamps[0]}.{raw_body.decode()}".encode()
    except UnicodeDecodeError:
        return False
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected.encode(), signature.encode()) for signature in signatures)


def verify_as_sample(raw_body: bytes, header: str, secret: str) -> bool:
    """The seed's sample verifier as printed: a dict of the parts keeps only the last v1=."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        signed = f"{parts['t']}.{raw_body.decode()}".encode()
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])
    except (KeyError, ValueError, TypeError):
        return False


def verify_request(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    return verify(raw_body, headers.get(SIGNATURE_HEADER, ""), secret)


def verify_request_as_sample(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    return verify_as_sample(raw_body, headers.get(SIGNATURE_HEADER, ""), secret)


def check_headers(request: CapturedRequest, _body: JsonObject | None) -> list[str]:
    header = request.header(SIGNATURE_HEADER)
    if header is None:
        return ["missing X-Flightline-Signature header"]
    problems: list[str] = []
    parts = header.split(",")
    # The sample splits on "," and "=" without trimming: every part must be name=value exactly.
    malformed = [part for part in parts if "=" not in part or part != part.strip()]
    if malformed:
        problems.append(f"X-Flightline-Signature has malformed parts {malformed}")
    names = [part.split("=", 1)[0] for part in parts]
    if names.count("t") != 1:
        problems.append(f"X-Flightline-Signature needs exactly one t=, has {names.count('t')}")
    if names.count("v1") < 1:
        problems.append("X-Flightline-Signature has no v1= entry")
    timestamps = [part[2:] for part in parts if part.startswith("t=")]
    if len(timestamps) == 1:
        if not is_canonical_integer(timestamps[0]):
            problems.append(f"X-Flightline-Signature t={timestamps[0]!r} is not unix seconds")
        elif not is_fresh(int(timestamps[0]), request.received_at, TIMESTAMP_TOLERANCE_SECONDS):
            age = request.received_at - int(timestamps[0])
            problems.append(
                f"X-Flightline-Signature t is {age:.0f}s from arrival, more than "
                f"{TIMESTAMP_TOLERANCE_SECONDS}s (replay window)"
            )
    return problems


def expected_body(event: PublishedEvent) -> JsonObject:
    body: JsonObject = {"event": event.type}
    for name in DATA_FIELDS:
        if isinstance(event.data, dict) and name in event.data:
            body[name] = event.data[name]
    body["occurred_at"] = event.occurred_at
    return body


# "De-duplicate on (review_id, event)": those two identify the event.
def body_identity(body: JsonObject) -> tuple[Any, ...]:
    return (body.get("event"), body.get("review_id"))


def event_identity(event: PublishedEvent) -> tuple[Any, ...]:
    return (event.type, event.data_field("review_id"))


def delivery_key(_request: CapturedRequest, body: JsonObject | None) -> str | None:
    # "Idempotency: a delivery may arrive more than once. De-duplicate on (review_id, event)"
    if body is None:
        return None
    return f"review_id={body.get('review_id')} event={body.get('event')}"


RULES = SeedRules(
    seed="flightline",
    timeout_seconds=TIMEOUT_SECONDS,
    retry_waits_seconds=RETRY_WAITS_SECONDS,
    # "on a non-2xx response or transport error": every non-2xx answer is retried.
    is_retried=every_non_2xx_retried,
    verify=verify_request,
    check_headers=check_headers,
    expected_body=expected_body,
    identity_names=("event", "review_id"),
    body_identity=body_identity,
    event_identity=event_identity,
    delivery_key=delivery_key,
    time_keys=frozenset({"occurred_at"}),
    time_format=WHOLE_SECONDS_UTC,
    sample_verify=verify_request_as_sample,
)
