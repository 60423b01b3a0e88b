"""Hand-built captures per seed: conforming ones pass, each kind of breakage fails.

Signatures here are computed with hmac directly, not with the verifier modules, so a
verifier that drifted from the seed's scheme would fail these tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import unittest
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import flintn_receiver
from conformance_checks import check_request
from event_matching import PublishedIndex
from seed_conformance import check_capture, load_capture

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "seed_conformance.py"

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()
START = 1_763_900_000.0
TIME_SCALE = 3600.0
ORGANISATION_ID = "org_1"

Json = dict[str, Any]


def hex_hmac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def base64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def whole_seconds(instant: str) -> str:
    """The time as Flightline and FlexOrch print theirs: "2026-05-30T18:09:12Z"."""
    return instant[:19] + "Z"


def milliseconds(instant: str) -> str:
    """The time as AviationAlley prints its: "2026-05-31T14:03:22.000Z"."""
    return instant[:19] + (instant[19:23] if instant[19:20] == "." else ".000") + "Z"


def published_event(
    event_id: str = "evt_1", event_type: str = "review.completed", review_id: str = "r1"
) -> Json:
    return {
        "id": event_id,
        "type": event_type,
        "scope": {"centerId": "c1"},
        # With milliseconds, as Skyhook stamps an event published without occurredAt.
        "occurredAt": "2026-05-30T18:09:12.941Z",
        "data": {"review_id": review_id, "reference_id": "LN-1", "status": "completed"},
    }


@dataclass(frozen=True)
class Sending:
    """How one attempt is signed and addressed."""

    secret: str
    timestamp: int
    delivery_id: str


@dataclass(frozen=True)
class SeedFixture:
    """How a sender following the seed renders and signs one event."""

    body: Callable[[Json, Sending], Json]
    headers: Callable[[bytes, Sending, Json], dict[str, str]]
    timeout: float
    waits: tuple[float, ...]


FIXTURES: dict[str, SeedFixture] = {
    "flightline": SeedFixture(
        body=lambda event, _s: {
            "event": event["type"],
            **{key: event["data"][key] for key in ("review_id", "reference_id", "status")},
            "occurred_at": whole_seconds(event["occurredAt"]),
        },
        headers=lambda raw, s, _b: {
            "x-flightline-signature": (
                f"t={s.timestamp},v1={hex_hmac(s.secret.encode(), f'{s.timestamp}.'.encode() + raw)}"
            )
        },
        timeout=10,
        waits=(0.5, 1.0),
    ),
    "flintn": SeedFixture(
        body=lambda event, _s: {
            "event_id": event["id"],
            "event": event["type"],
            "created_at": event["occurredAt"],
            "data": event["data"],
        },
        headers=lambda raw, s, _b: {"x-signature-primary": base64_hmac(s.secret.encode(), raw)},
        timeout=30,
        waits=(300, 1800, 7200, 86400),
    ),
    "flexorch": SeedFixture(
        body=lambda event, _s: {
            "event": event["type"],
            **event["data"],
            "timestamp": whole_seconds(event["occurredAt"]),
        },
        headers=lambda raw, s, _b: {"x-flexorch-signature": hex_hmac(s.secret.encode(), raw)},
        timeout=10,
        waits=(30,),
    ),
    "fl3xx": SeedFixture(
        body=lambda event, _s: {
            "id": event["id"],
            "type": event["type"],
            "organisationId": ORGANISATION_ID,
            "scope": event["scope"],
            "createdAt": event["occurredAt"],
            "data": event["data"],
        },
        headers=lambda raw, s, _b: {
            "webhook-id": s.delivery_id,
            "webhook-timestamp": str(s.timestamp),
            "webhook-signature": "v1,"
            + base64_hmac(
                base64.b64decode(s.secret.removeprefix("whsec_")),
                f"{s.delivery_id}.{s.timestamp}.".encode() + raw,
            ),
        },
        timeout=10,
        waits=(5, 300, 1800, 7200, 18000, 36000, 36000),
    ),
    "aviationalley": SeedFixture(
        body=lambda event, s: {
            "id": s.delivery_id,
            "type": event["type"],
            "centerId": event["scope"]["centerId"],
            "createdAt": milliseconds(event["occurredAt"]),
            "data": event["data"],
        },
        headers=lambda raw, s, body: {
            "x-aviationalley-signature": hex_hmac(s.secret.encode(), raw),
            "x-aviationalley-event": body["type"],
            "x-aviationalley-delivery": s.delivery_id,
        },
        timeout=5,
        waits=(300, 1800, 7200, 28800),
    ),
}


@dataclass(frozen=True)
class Answer:
    status: int
    delay: float = 0.0
    hung_up_after: float | None = None  # seconds after arrival the sender hung up


def timed_out(fixture: SeedFixture) -> Answer:
    return Answer(status=200, delay=fixture.timeout + 3, hung_up_after=fixture.timeout)


def delivery(
    seed: str,
    answers: list[Answer],
    event: Json | None = None,
    start: float = START,
    signing_secret: str = SECRET,
    delivery_id: str = "del_1",
    gaps: list[float] | None = None,
    raw_body: Callable[[Json], bytes] = lambda body: json.dumps(body).encode(),
) -> list[Json]:
    """The requests of one delivery, each attempt arriving after the scheduled wait."""
    fixture = FIXTURES[seed]
    event = event or published_event()
    requests: list[Json] = []
    at = start
    for number, answer in enumerate(answers):
        if number > 0:
            previous = answers[number - 1]
            took = previous.hung_up_after if previous.hung_up_after is not None else previous.delay
            wait = fixture.waits[number - 1] / TIME_SCALE if number - 1 < len(fixture.waits) else 0.0
            at += gaps[number - 1] if gaps else took + wait + 0.01
        sending = Sending(secret=signing_secret, timestamp=int(at), delivery_id=delivery_id)
        body = fixture.body(event, sending)
        raw = raw_body(body)
        requests.append(
            {
                "method": "POST",
                "path": f"/hooks/{seed}",
                "headers": {"content-type": "application/json", **fixture.headers(raw, sending, body)},
                "bodyBase64": base64.b64encode(raw).decode(),
                "receivedAt": at,
                "answer": {"status": answer.status, "delaySeconds": answer.delay},
                "clientClosedAt": None if answer.hung_up_after is None else at + answer.hung_up_after,
            }
        )
    return requests


def capture(
    seed: str,
    requests: list[Json],
    published: list[Json] | None = None,
    captured_after: float = 1.0,
    secret: str = SECRET,
) -> Json:
    ends = [request["receivedAt"] + (request["answer"] or {}).get("delaySeconds", 0) for request in requests]
    last = max(ends, default=START)
    return {
        "seed": seed,
        "secret": secret,
        "timeScale": TIME_SCALE,
        "capturedAt": last + captured_after,
        "published": published if published is not None else [published_event()],
        "requests": requests,
    }


def report_of(document: Json) -> Json:
    return check_capture(load_capture(document))


def with_body(request: Json, raw: bytes) -> Json:
    return {**request, "bodyBase64": base64.b64encode(raw).decode()}


class ConformanceTestCase(unittest.TestCase):
    def assert_conforms(self, document: Json) -> Json:
        report = report_of(document)
        self.assertEqual(report["failures"], [], json.dumps(report, indent=2))
        self.assertTrue(report["ok"])
        self.assertEqual(report["verified"], report["requests"])
        self.assertEqual(report["tamperRejected"], 2 * report["requests"])
        return report

    def assert_fails(self, document: Json, *fragments: str) -> Json:
        report = report_of(document)
        self.assertFalse(report["ok"], json.dumps(report, indent=2))
        text = "\n".join(report["failures"])
        for fragment in fragments:
            self.assertIn(fragment, text)
        return report


class ConformingCaptures(ConformanceTestCase):
    def test_flightline_retries_then_delivers(self) -> None:
        report = self.assert_conforms(
            capture("flightline", delivery("flightline", [Answer(500), Answer(503), Answer(200)]))
        )
        self.assertEqual(
            report["deliveries"],
            [
                {
                    "key": "review_id=r1 event=review.completed",
                    "type": "review.completed",
                    "attempts": 3,
                    "answers": [500, 503, 200],
                    "timedOut": [False, False, False],
                    "gapsSeconds": [0.01, 0.01],
                    "outcome": "delivered",
                }
            ],
        )

    def test_flintn_retries_429_and_5xx_and_stops_at_400(self) -> None:
        second = published_event("evt_2", review_id="r2")
        requests = delivery("flintn", [Answer(429), Answer(500), Answer(200)])
        requests += delivery("flintn", [Answer(400)], event=second, start=START + 0.5)
        report = self.assert_conforms(capture("flintn", requests, published=[published_event(), second]))
        self.assertEqual([d["outcome"] for d in report["deliveries"]], ["delivered", "failed"])

    def test_flexorch_retries_once(self) -> None:
        report = self.assert_conforms(capture("flexorch", delivery("flexorch", [Answer(500), Answer(500)])))
        self.assertEqual(report["deliveries"][0]["outcome"], "failed")

    def test_fl3xx_standard_webhooks(self) -> None:
        self.assert_conforms(capture("fl3xx", delivery("fl3xx", [Answer(503), Answer(408), Answer(204)])))

    def test_aviationalley_timeout_then_delivered(self) -> None:
        fixture = FIXTURES["aviationalley"]
        report = self.assert_conforms(
            capture("aviationalley", delivery("aviationalley", [timed_out(fixture), Answer(200)]))
        )
        self.assertEqual(report["deliveries"][0]["timedOut"], [True, False])

    def test_every_seed_with_a_timeout_and_a_retry(self) -> None:
        for seed, fixture in FIXTURES.items():
            with self.subTest(seed=seed):
                self.assert_conforms(capture(seed, delivery(seed, [timed_out(fixture), Answer(201)])))

    def test_retry_still_pending_when_captured_early(self) -> None:
        document = capture("flintn", delivery("flintn", [Answer(500)]), captured_after=0.5)
        report = self.assert_conforms(document)
        self.assertEqual(report["deliveries"][0]["outcome"], "in-progress")

    def test_same_instant_in_another_notation_matches(self) -> None:
        def with_offset(body: Json) -> bytes:
            return json.dumps({**body, "createdAt": "2026-05-30T20:09:12.941+02:00"}).encode()

        self.assert_conforms(capture("fl3xx", delivery("fl3xx", [Answer(200)], raw_body=with_offset)))

    def test_identical_events_are_separate_deliveries(self) -> None:
        twin = {**published_event(), "id": "evt_2"}
        requests = delivery("aviationalley", [Answer(200)], delivery_id="del_1")
        requests += delivery("aviationalley", [Answer(500), Answer(200)], event=twin, delivery_id="del_2")
        report = self.assert_conforms(capture("aviationalley", requests, published=[published_event(), twin]))
        self.assertEqual([d["attempts"] for d in report["deliveries"]], [1, 2])
        self.assertEqual(report["warnings"], [])

    def test_an_event_that_never_arrived_is_a_warning(self) -> None:
        requests = delivery("flintn", [Answer(200)])
        published = [published_event(), published_event("evt_2")]
        report = self.assert_conforms(capture("flintn", requests, published=published))
        never = "published event evt_2 (review.completed) reached the receiver in no request"
        self.assertEqual(report["warnings"], [never])

    def test_sender_hanging_up_before_any_answer_is_a_retried_failure(self) -> None:
        requests = delivery("flintn", [Answer(200, hung_up_after=0.01), Answer(200)])
        requests[0]["answer"] = None
        report = self.assert_conforms(capture("flintn", requests))
        self.assertEqual(report["deliveries"][0]["answers"], [None, 200])
        self.assertEqual(report["deliveries"][0]["timedOut"], [True, False])
        self.assertIn("before any answer", report["warnings"][0])

    def test_request_still_unanswered_at_capture_needs_no_retry_yet(self) -> None:
        requests = delivery("fl3xx", [Answer(200)])
        requests[0]["answer"] = None
        report = self.assert_conforms(capture("fl3xx", requests, captured_after=60))
        self.assertEqual(report["deliveries"][0]["outcome"], "in-progress")
        self.assertIn("not answered yet", report["warnings"][0])

    def test_thousands_of_requests(self) -> None:
        events = [published_event(f"evt_{n}", review_id=f"r{n}") for n in range(3000)]
        requests = [
            request
            for n, event in enumerate(events)
            for request in delivery("aviationalley", [Answer(200)], event=event, delivery_id=f"del_{n}")
        ]
        report = self.assert_conforms(capture("aviationalley", requests, published=events))
        self.assertEqual(len(report["deliveries"]), 3000)

    def test_flightline_rotation_any_v1_verifies(self) -> None:
        requests = delivery("flightline", [Answer(200)])
        header = requests[0]["headers"]["x-flightline-signature"]
        requests[0]["headers"]["x-flightline-signature"] = f"{header},v1={'0' * 64}"
        report = self.assert_conforms(capture("flightline", requests))
        self.assertEqual(len(report["warnings"]), 1)
        self.assertIn("sample verifier", report["warnings"][0])

    def test_fl3xx_several_signatures(self) -> None:
        requests = delivery("fl3xx", [Answer(200)])
        signature = requests[0]["headers"]["webhook-signature"]
        requests[0]["headers"]["webhook-signature"] = f"v1,{base64.b64encode(b'x' * 32).decode()} {signature}"
        self.assert_conforms(capture("fl3xx", requests))


class SignatureFailures(ConformanceTestCase):
    def test_wrong_secret_fails_for_every_seed(self) -> None:
        for seed in FIXTURES:
            with self.subTest(seed=seed):
                requests = delivery(seed, [Answer(200)], signing_secret=OTHER_SECRET)
                report = self.assert_fails(capture(seed, requests), "request #0: signature does not verify")
                self.assertEqual(report["verified"], 0)

    def test_tampered_body_fails_for_every_seed(self) -> None:
        for seed in FIXTURES:
            with self.subTest(seed=seed):
                request = delivery(seed, [Answer(200)])[0]
                raw = base64.b64decode(request["bodyBase64"]).replace(b"LN-1", b"LN-2")
                self.assert_fails(
                    capture(seed, [with_body(request, raw)]), "request #0: signature does not verify"
                )

    def test_reformatted_body_fails_for_every_seed(self) -> None:
        # Same JSON value, other bytes: only the signature can tell.
        for seed in FIXTURES:
            with self.subTest(seed=seed):
                request = delivery(seed, [Answer(200)])[0]
                raw = json.dumps(json.loads(base64.b64decode(request["bodyBase64"])), indent=1).encode()
                report = self.assert_fails(capture(seed, [with_body(request, raw)]))
                self.assertEqual(
                    report["failures"], ["request #0: signature does not verify with the secret"]
                )

    def test_self_test_catches_a_verifier_that_accepts_anything(self) -> None:
        request = load_capture(capture("flintn", delivery("flintn", [Answer(200)]))).requests[0]
        lenient = replace(flintn_receiver.RULES, verify=lambda _body, _headers, _secret: True)
        result = check_request(lenient, request, SECRET, PublishedIndex(lenient, []))
        self.assertEqual(result.tamper_rejected, 0)
        self.assertIn("request #0: self-test: still verifies with a wrong secret", result.failures)
        self.assertIn("request #0: self-test: still verifies with one body byte changed", result.failures)

    def test_stale_timestamp_fails(self) -> None:
        for seed in ("flightline", "fl3xx"):
            with self.subTest(seed=seed):
                requests = delivery(seed, [Answer(200)], start=START - 301)
                requests[0]["receivedAt"] = START
                self.assert_fails(capture(seed, requests), "request #0", "300s")


class ShapeFailures(ConformanceTestCase):
    def test_flightline_extra_key_fails(self) -> None:
        def with_extra(body: Json) -> bytes:
            return json.dumps({**body, "report": "secret"}).encode()

        self.assert_fails(
            capture("flightline", delivery("flightline", [Answer(200)], raw_body=with_extra)),
            "unexpected keys ['report']",
        )

    def test_flexorch_key_order_fails(self) -> None:
        def timestamp_first(body: Json) -> bytes:
            return json.dumps({"timestamp": body["timestamp"], **body}).encode()

        self.assert_fails(
            capture("flexorch", delivery("flexorch", [Answer(200)], raw_body=timestamp_first)),
            "start with event and end with timestamp",
        )

    def test_times_not_in_the_seeds_format_fail(self) -> None:
        cases = {
            "flightline": ("occurred_at", "2026-05-30T18:09:12.941Z"),
            "flexorch": ("timestamp", "2026-05-30T20:09:12+02:00"),
            "aviationalley": ("createdAt", "2026-05-30T18:09:12Z"),
        }
        for seed, (key, written) in cases.items():
            with self.subTest(seed=seed):

                def rewritten(body: Json, key: str = key, written: str = written) -> bytes:
                    return json.dumps({**body, key: written}).encode()

                self.assert_fails(
                    capture(seed, delivery(seed, [Answer(200)], raw_body=rewritten)),
                    f"{key} is \"{written}\", not in the seed's format",
                )

    def test_whole_seconds_name_the_published_second(self) -> None:
        def a_second_later(body: Json) -> bytes:
            return json.dumps({**body, "occurred_at": "2026-05-30T18:09:13Z"}).encode()

        self.assert_fails(
            capture("flightline", delivery("flightline", [Answer(200)], raw_body=a_second_later)),
            "occurred_at",
        )

    def test_aviationalley_event_header_must_match_body(self) -> None:
        requests = delivery("aviationalley", [Answer(200)])
        requests[0]["headers"]["x-aviationalley-event"] = "booking.created"
        self.assert_fails(capture("aviationalley", requests), "X-AviationAlley-Event")

    def test_unpublished_event_fails(self) -> None:
        requests = delivery("flintn", [Answer(200)], event=published_event("evt_9"))
        self.assert_fails(capture("flintn", requests), "matches no published event")

    def test_body_changed_between_retries_fails(self) -> None:
        requests = delivery("flintn", [Answer(500), Answer(200)])
        def indented(body: Json) -> bytes:
            return json.dumps(body, indent=1).encode()

        requests[1] = delivery("flintn", [Answer(200)], start=requests[1]["receivedAt"], raw_body=indented)[0]
        self.assert_fails(capture("flintn", requests), "body differs from the first attempt")


class RetryFailures(ConformanceTestCase):
    def test_flintn_400_retried_fails(self) -> None:
        self.assert_fails(
            capture("flintn", delivery("flintn", [Answer(400), Answer(200)])),
            "attempt 2 (request #1) came after attempt 1 was answered 400, which the seed does not retry",
        )

    def test_flightline_fourth_attempt_fails(self) -> None:
        answers = [Answer(500), Answer(500), Answer(500), Answer(200)]
        self.assert_fails(
            capture("flightline", delivery("flightline", answers)), "4 attempts, the seed allows at most 3"
        )

    def test_attempt_after_2xx_fails(self) -> None:
        self.assert_fails(
            capture("aviationalley", delivery("aviationalley", [Answer(200), Answer(200)])),
            "attempt 2 (request #1) came after attempt 1 was answered 200",
        )

    def test_too_short_gap_fails(self) -> None:
        # aviationalley waits 5 minutes: 0.083 s at timeScale 3600.
        requests = delivery("aviationalley", [Answer(500), Answer(200)], gaps=[0.01])
        self.assert_fails(capture("aviationalley", requests), "attempt 2 (request #1) came 0.010s after")

    def test_too_long_gap_fails(self) -> None:
        requests = delivery("flexorch", [Answer(500), Answer(200)], gaps=[5.0])
        self.assert_fails(capture("flexorch", requests), "came 5.000s after")

    def test_missing_retry_fails(self) -> None:
        document = capture("flintn", delivery("flintn", [Answer(503)]), captured_after=10)
        report = self.assert_fails(document, "missing retry")
        self.assertEqual(report["deliveries"][0]["outcome"], "in-progress")

    def test_missing_retry_after_no_answer_fails(self) -> None:
        requests = delivery("aviationalley", [Answer(200, hung_up_after=0.01)])
        requests[0]["answer"] = None
        self.assert_fails(capture("aviationalley", requests, captured_after=10), "missing retry", "no answer")

    def test_missing_retry_after_timeout_fails(self) -> None:
        fixture = FIXTURES["flightline"]
        document = capture("flightline", delivery("flightline", [timed_out(fixture)]), captured_after=10)
        self.assert_fails(document, "missing retry", "got a timeout")


class TimeoutFailures(ConformanceTestCase):
    def test_timed_out_attempt_without_hang_up_fails(self) -> None:
        requests = delivery("flightline", [Answer(200, delay=12)])
        self.assert_fails(
            capture("flightline", requests), "past the 10s timeout, but the sender did not hang up"
        )

    def test_hang_up_long_after_the_timeout_fails(self) -> None:
        requests = delivery("aviationalley", [Answer(200, delay=20, hung_up_after=15), Answer(200)])
        self.assert_fails(capture("aviationalley", requests), "sender hung up after 15.00s")

    def test_hang_up_on_a_quick_answer_fails(self) -> None:
        requests = delivery("flexorch", [Answer(200, delay=1, hung_up_after=1), Answer(200)])
        self.assert_fails(capture("flexorch", requests), "well within the 10s timeout")


class CommandLine(unittest.TestCase):
    def run_script(self, document: Any) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "capture.json"
            path.write_text(document if isinstance(document, str) else json.dumps(document))
            return subprocess.run(
                [sys.executable, str(SCRIPT), str(path)],
                capture_output=True,
                text=True,
                cwd=directory,  # runnable from any working directory
                check=False,
            )

    def test_exit_0_when_conforming(self) -> None:
        result = self.run_script(capture("fl3xx", delivery("fl3xx", [Answer(200)])))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(json.loads(result.stdout)["ok"])

    def test_exit_1_when_failing(self) -> None:
        result = self.run_script(capture("fl3xx", delivery("fl3xx", [Answer(200)]), secret=OTHER_SECRET))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertFalse(json.loads(result.stdout)["ok"])

    def test_exit_2_when_unusable(self) -> None:
        for document in ("not json", {"seed": "nobody"}, {**capture("flintn", []), "requests": [{}]}):
            with self.subTest(document=document):
                result = self.run_script(document)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertIn("unusable capture", json.loads(result.stdout)["error"])


if __name__ == "__main__":
    unittest.main()
