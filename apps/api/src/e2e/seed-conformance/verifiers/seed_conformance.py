#!/usr/bin/env python3
"""Checks a capture of webhook requests the way a receiver built from a seed's documentation would.

Usage: python3 seed_conformance.py <capture.json>

Prints a JSON report on stdout. Exit status: 0 when everything conforms, 1 when anything
fails, 2 when the capture cannot be used.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aviationalley_receiver  # noqa: E402
import fl3xx_receiver  # noqa: E402
import flexorch_receiver  # noqa: E402
import flightline_receiver  # noqa: E402
import flintn_receiver  # noqa: E402
from conformance_checks import check_delivery, check_request, group_by_delivery  # noqa: E402
from event_matching import PublishedIndex  # noqa: E402
from receiver_rules import CapturedRequest, PublishedEvent, SeedRules  # noqa: E402

EXIT_CONFORMS = 0
EXIT_FAILS = 1
EXIT_UNUSABLE = 2


def rules_for(seed: str) -> SeedRules | None:
    return {
        rules.seed: rules
        for rules in (
            flightline_receiver.RULES,
            flintn_receiver.RULES,
            flexorch_receiver.RULES,
            fl3xx_receiver.RULES,
            aviationalley_receiver.RULES,
        )
    }.get(seed)


class UnusableCapture(Exception):
    """The capture file is not what the test tooling is supposed to write."""


@dataclass(frozen=True)
class Capture:
    rules: SeedRules
    secret: str
    time_scale: float
    captured_at: float
    published: list[PublishedEvent]
    requests: list[CapturedRequest]
    # Skyhook's rotation (no seed documents one): from a new secret's activation until this many
    # seconds after it, a 401/403 is the receiver still holding the old secret and is retried.
    secret_switch: tuple[float, float] | None = None


def _value(container: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = container.get(name)
    if not isinstance(value, kind):
        raise UnusableCapture(f"{where}.{name} is missing or not {kind.__name__}")
    return value


def _string(container: dict[str, Any], name: str, where: str) -> str:
    return str(_value(container, name, str, where))


def _number(container: dict[str, Any], name: str, where: str) -> float:
    value = container.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise UnusableCapture(f"{where}.{name} is missing or not a number")
    return float(value)


def _integer(container: dict[str, Any], name: str, where: str) -> int:
    value = container.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnusableCapture(f"{where}.{name} is missing or not an integer")
    return value


def _published_event(raw: Any, position: int) -> PublishedEvent:
    where = f"published[{position}]"
    if not isinstance(raw, dict):
        raise UnusableCapture(f"{where} is not an object")
    scope = raw.get("scope", {})
    if not isinstance(scope, dict):
        raise UnusableCapture(f"{where}.scope is not an object")
    return PublishedEvent(
        id=_string(raw, "id", where),
        type=_string(raw, "type", where),
        scope=scope,
        occurred_at=_string(raw, "occurredAt", where),
        data=raw.get("data"),
    )


def _headers(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise UnusableCapture(f"{where}.headers is not an object")
    headers: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ", ".join(value)  # a repeated header, as HTTP would join it
        if not isinstance(value, str):
            raise UnusableCapture(f"{where}.headers[{name!r}] is not a string")
        headers[name.lower()] = value
    return headers


def _captured_request(raw: Any, position: int) -> CapturedRequest:
    where = f"requests[{position}]"
    if not isinstance(raw, dict):
        raise UnusableCapture(f"{where} is not an object")
    # No answer: the sender hung up before the receiver had answered anything.
    answer = raw.get("answer")
    if answer is not None and not isinstance(answer, dict):
        raise UnusableCapture(f"{where}.answer is neither an object nor null")
    try:
        body = base64.b64decode(_string(raw, "bodyBase64", where), validate=True)
    except binascii.Error as error:
        raise UnusableCapture(f"{where}.bodyBase64 is not base64 ({error})") from error
    closed = raw.get("clientClosedAt")
    if closed is not None and (not isinstance(closed, (int, float)) or isinstance(closed, bool)):
        raise UnusableCapture(f"{where}.clientClosedAt is neither a number nor null")
    return CapturedRequest(
        index=position,
        method=_string(raw, "method", where),
        path=str(raw.get("path", "")),
        headers=_headers(raw.get("headers"), where),
        body=body,
        received_at=_number(raw, "receivedAt", where),
        status=None if answer is None else _integer(answer, "status", f"{where}.answer"),
        delay_seconds=0.0 if answer is None else _number(answer, "delaySeconds", f"{where}.answer"),
        client_closed_at=None if closed is None else float(closed),
    )


def load_capture(document: Any) -> Capture:
    if not isinstance(document, dict):
        raise UnusableCapture("capture is not a JSON object")
    seed = _string(document, "seed", "capture")
    rules = rules_for(seed)
    if rules is None:
        raise UnusableCapture(f"unknown seed {seed!r}")
    secret = _string(document, "secret", "capture")
    if not secret:
        raise UnusableCapture("capture.secret is empty")
    time_scale = _number(document, "timeScale", "capture")
    if time_scale <= 0:
        raise UnusableCapture("capture.timeScale must be positive")
    published = _value(document, "published", list, "capture")
    requests = _value(document, "requests", list, "capture")
    return Capture(
        rules=rules,
        secret=secret,
        time_scale=time_scale,
        captured_at=_number(document, "capturedAt", "capture"),
        published=[_published_event(raw, position) for position, raw in enumerate(published)],
        requests=[_captured_request(raw, position) for position, raw in enumerate(requests)],
        secret_switch=_secret_switch(document.get("secretSwitch")),
    )


def _secret_switch(raw: Any) -> tuple[float, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise UnusableCapture("capture.secretSwitch is not an object")
    return (_number(raw, "from", "capture.secretSwitch"), _number(raw, "until", "capture.secretSwitch"))


def check_capture(capture: Capture) -> dict[str, Any]:
    """The report for one capture."""
    rules = capture.rules
    published = PublishedIndex(rules, capture.published)
    results = [check_request(rules, request, capture.secret, published) for request in capture.requests]
    deliveries = [
        check_delivery(rules, key, group, capture.time_scale, capture.captured_at, capture.secret_switch)
        for key, group in group_by_delivery(results).items()
    ]
    failures = [failure for result in results for failure in result.failures]
    failures += [failure for delivery in deliveries for failure in delivery.failures]
    warnings = [warning for result in results for warning in result.warnings]
    warnings += [
        f"published event {event.id} ({event.type}) reached the receiver in no request"
        for event in published.never_matched(result.event for result in results if result.event is not None)
    ]
    return {
        "seed": rules.seed,
        "ok": not failures,
        "failures": failures,
        "warnings": warnings,
        "requests": len(results),
        "verified": sum(result.verified for result in results),
        "tamperRejected": sum(result.tamper_rejected for result in results),
        "deliveries": [
            {
                "key": delivery.key,
                "type": delivery.type,
                "attempts": delivery.attempts,
                "answers": delivery.answers,
                "timedOut": delivery.timed_out,
                "gapsSeconds": delivery.gaps_seconds,
                "outcome": delivery.outcome,
            }
            for delivery in deliveries
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify captured webhook requests against a seed's documentation "
        "(exit 0 conforms, 1 fails, 2 unusable capture)."
    )
    parser.add_argument("capture", type=Path, help="capture JSON file written by the seed-conformance test")
    arguments = parser.parse_args(argv)

    document: Any = None
    try:
        document = json.loads(arguments.capture.read_text(encoding="utf-8"))
        capture = load_capture(document)
    except (OSError, ValueError, UnusableCapture) as error:
        message = f"unusable capture: {error}"
        seed = document.get("seed") if isinstance(document, dict) else None
        print(json.dumps({"seed": seed, "ok": False, "error": message, "failures": [message]}, indent=2))
        print(f"{arguments.capture}: {message}", file=sys.stderr)
        return EXIT_UNUSABLE

    report = check_capture(capture)
    print(json.dumps(report, indent=2))
    return EXIT_CONFORMS if report["ok"] else EXIT_FAILS


if __name__ == "__main__":
    sys.exit(main())
