"""The checks themselves: each request on its own, then each delivery's attempts together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

from event_matching import PublishedIndex
from receiver_rules import (
    CapturedRequest,
    PublishedEvent,
    SeedRules,
    is_success,
    parse_json_object,
)

# A gap may be this much shorter than the scaled wait (timer granularity).
EARLY_SLACK_SECONDS = 0.05
# A gap may be this much longer than the scaled wait plus the previous attempt.
LATE_SLACK_SECONDS = 3.0
# A sender that times out hangs up within [timeout - 0.5 s, timeout + 2 s] of the request.
HANG_UP_EARLY_SECONDS = 0.5
HANG_UP_LATE_SECONDS = 2.0

Outcome = Literal["delivered", "failed", "in-progress"]


@dataclass
class RequestResult:
    request: CapturedRequest
    event: PublishedEvent | None
    key: str
    verified: bool
    tamper_rejected: int
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class DeliveryResult:
    key: str
    type: str | None
    attempts: int
    answers: list[int | None]
    timed_out: list[bool]
    gaps_seconds: list[float]
    outcome: Outcome
    failures: list[str] = field(default_factory=list)


def tamper_body(body: bytes) -> bytes:
    """The body with one byte changed: the last ASCII letter or digit, so it stays valid JSON."""
    for position in range(len(body) - 1, -1, -1):
        character = chr(body[position])
        if character.isascii() and character.isalnum():
            replacement = {"9": "0", "z": "a", "Z": "A"}.get(character, chr(body[position] + 1))
            return body[:position] + replacement.encode() + body[position + 1 :]
    return body + b" "


def safely_verifies(rules: SeedRules, body: bytes, request: CapturedRequest, secret: str) -> bool:
    try:
        return rules.verify(body, request.headers, secret)
    except (ValueError, TypeError):
        return False


def is_timed_out(rules: SeedRules, request: CapturedRequest) -> bool:
    """No answer reached the sender in time: it hung up, or should have, or nothing was answered."""
    return (
        request.status is None
        or request.client_closed_at is not None
        or request.delay_seconds > rules.timeout_seconds
    )


def attempt_duration(request: CapturedRequest) -> float:
    if request.client_closed_at is not None:
        return max(0.0, request.client_closed_at - request.received_at)
    return request.delay_seconds


def check_request(
    rules: SeedRules, request: CapturedRequest, secret: str, published: PublishedIndex
) -> RequestResult:
    """Everything a receiver built from the seed checks on one request, and the self-test."""
    name = f"request #{request.index}"
    failures: list[str] = []
    warnings: list[str] = []

    if request.method.upper() != "POST":
        failures.append(f"method is {request.method}, expected POST")
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("application/json"):
        failures.append(f"content-type is {content_type!r}, expected application/json")

    body, body_problem = parse_json_object(request.body)
    event: PublishedEvent | None = None
    if body is None:
        failures.append(body_problem or "body is not a JSON object")
    else:
        body_check = published.match(body)
        event = body_check.event
        failures.extend(body_check.problems)
    failures.extend(rules.check_headers(request, body))

    verified = safely_verifies(rules, request.body, request, secret)
    if not verified:
        failures.append("signature does not verify with the secret")
    elif rules.sample_verify is not None and not rules.sample_verify(request.body, request.headers, secret):
        warnings.append(f"{name}: verifies, but not with the seed's sample verifier as printed")

    # Self-test: this verifier must be able to say no.
    tamper_rejected = 0
    if safely_verifies(rules, request.body, request, rules.wrong_secret(secret)):
        failures.append("self-test: still verifies with a wrong secret")
    else:
        tamper_rejected += 1
    if safely_verifies(rules, tamper_body(request.body), request, secret):
        failures.append("self-test: still verifies with one body byte changed")
    else:
        tamper_rejected += 1

    failures.extend(check_timeout(rules, request))
    if request.status is None and request.client_closed_at is not None:
        held = attempt_duration(request)
        warnings.append(f"{name}: the sender hung up {held:.2f}s after sending, before any answer")
    elif request.status is None:
        warnings.append(f"{name}: not answered yet when the capture was taken")

    return RequestResult(
        request=request,
        event=event,
        key=rules.delivery_key(request, body) or f"{name} (no delivery key)",
        verified=verified,
        tamper_rejected=tamper_rejected,
        failures=[f"{name}: {failure}" for failure in failures],
        warnings=warnings,
    )


def check_timeout(rules: SeedRules, request: CapturedRequest) -> list[str]:
    """A slower answer than the seed's timeout is hung up on, at the timeout; a quick one is not."""
    timeout = rules.timeout_seconds
    if request.status is None:
        return []  # nothing was answered: see the warning
    if request.delay_seconds > timeout:
        if request.client_closed_at is None:
            return [
                f"receiver answered after {request.delay_seconds:g}s, past the {timeout:g}s timeout, "
                "but the sender did not hang up"
            ]
        held = request.client_closed_at - request.received_at
        if not timeout - HANG_UP_EARLY_SECONDS <= held <= timeout + HANG_UP_LATE_SECONDS:
            return [
                f"sender hung up after {held:.2f}s, expected the {timeout:g}s timeout "
                f"(within [{timeout - HANG_UP_EARLY_SECONDS:g}, {timeout + HANG_UP_LATE_SECONDS:g}]s)"
            ]
    elif request.delay_seconds < timeout - HANG_UP_EARLY_SECONDS and request.client_closed_at is not None:
        held = request.client_closed_at - request.received_at
        return [
            f"sender hung up after {held:.2f}s although the receiver answered after "
            f"{request.delay_seconds:g}s, well within the {timeout:g}s timeout"
        ]
    return []


def describe_answer(rules: SeedRules, request: CapturedRequest) -> str:
    if request.status is None:
        return "no answer (the sender hung up)"
    if is_timed_out(rules, request):
        return "a timeout"
    return f"status {request.status}"


def check_delivery(
    rules: SeedRules,
    key: str,
    results: Sequence[RequestResult],
    time_scale: float,
    captured_at: float,
    secret_switch: tuple[float, float] | None = None,
) -> DeliveryResult:
    """The attempts of one delivery (same key) against the seed's retry rules."""
    attempts = sorted(results, key=lambda result: (result.request.received_at, result.request.index))
    requests = [result.request for result in attempts]
    name = f"delivery {key}"
    failures: list[str] = []

    if len(requests) > rules.max_attempts:
        failures.append(f"{len(requests)} attempts, the seed allows at most {rules.max_attempts}")
    failures += [
        f"request #{request.index} body differs from the first attempt (request #{requests[0].index})"
        for request in requests[1:]
        if request.body != requests[0].body
    ]
    outcome, late_attempt = ending(rules, requests, secret_switch)
    if late_attempt is not None:
        failures.append(late_attempt)
    gaps = [round(later.received_at - earlier.received_at, 3) for earlier, later in pairs(requests)]
    failures += gap_failures(rules, requests, time_scale)
    if outcome == "in-progress":
        failures += missing_retry(rules, requests, time_scale, captured_at)

    return DeliveryResult(
        key=key,
        type=next((result.event.type for result in attempts if result.event is not None), None),
        attempts=len(requests),
        answers=[request.status for request in requests],
        timed_out=[is_timed_out(rules, request) for request in requests],
        gaps_seconds=gaps,
        outcome=outcome,
        failures=[f"{name}: {failure}" for failure in failures],
    )


def pairs(requests: Sequence[CapturedRequest]) -> list[tuple[CapturedRequest, CapturedRequest]]:
    """Consecutive attempts."""
    return list(zip(requests, requests[1:]))


def ending(
    rules: SeedRules, requests: Sequence[CapturedRequest], secret_switch: tuple[float, float] | None = None
) -> tuple[Outcome, str | None]:
    """How the delivery ended, and the first attempt that came after its end (a failure)."""
    for number, request in enumerate(requests, start=1):
        if request.status is None or is_timed_out(rules, request):
            continue
        if (
            secret_switch is not None
            and request.status in (401, 403)
            and secret_switch[0] <= request.received_at < secret_switch[1]
        ):
            continue
        if is_success(request.status):
            outcome: Outcome = "delivered"
            reason = f"attempt {number} was answered {request.status}"
        elif not rules.is_retried(request.status):
            outcome = "failed"
            reason = f"attempt {number} was answered {request.status}, which the seed does not retry"
        else:
            continue
        if number < len(requests):
            return outcome, f"attempt {number + 1} (request #{requests[number].index}) came after {reason}"
        return outcome, None
    return ("failed" if len(requests) >= rules.max_attempts else "in-progress"), None


def gap_failures(rules: SeedRules, requests: Sequence[CapturedRequest], time_scale: float) -> list[str]:
    """Each retry comes after the scheduled wait, and not much later than wait + previous attempt."""
    failures: list[str] = []
    # zip stops at the end of the schedule: attempts beyond it are reported as too many.
    scheduled = zip(pairs(requests), rules.retry_waits_seconds)
    for number, ((previous, current), wait_seconds) in enumerate(scheduled, start=1):
        gap = current.received_at - previous.received_at
        wait = wait_seconds / time_scale
        earliest = wait - EARLY_SLACK_SECONDS
        latest = wait + attempt_duration(previous) + LATE_SLACK_SECONDS
        if not earliest <= gap <= latest:
            failures.append(
                f"attempt {number + 1} (request #{current.index}) came {gap:.3f}s after attempt "
                f"{number}, expected {earliest:.3f}s to {latest:.3f}s "
                f"(wait {wait_seconds:g}s / timeScale {time_scale:g})"
            )
    return failures


def missing_retry(
    rules: SeedRules, requests: Sequence[CapturedRequest], time_scale: float, captured_at: float
) -> list[str]:
    """A retryable last attempt, with attempts left, was retried if the capture waited long enough."""
    last = requests[-1]
    if last.status is None and last.client_closed_at is None:
        return []  # still being answered when the capture was taken
    allowed = rules.retry_waits_seconds[len(requests) - 1] / time_scale + LATE_SLACK_SECONDS
    waited = captured_at - (last.received_at + attempt_duration(last))
    if waited <= allowed:
        return []
    return [
        f"missing retry: attempt {len(requests)} (request #{last.index}) got "
        f"{describe_answer(rules, last)}; attempt {len(requests) + 1} was due within {allowed:.3f}s "
        f"of its end, but none came in the {waited:.3f}s before the capture"
    ]


def group_by_delivery(results: Sequence[RequestResult]) -> dict[str, list[RequestResult]]:
    """Requests by delivery key, in order of each delivery's first request."""
    groups: dict[str, list[RequestResult]] = {}
    for result in results:
        groups.setdefault(result.key, []).append(result)
    return groups
