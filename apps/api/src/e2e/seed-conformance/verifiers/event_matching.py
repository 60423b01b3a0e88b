"""Which published event a request's body is, and how it differs from what it should be.

Bodies are looked up by their canonical form first, so a capture of thousands of requests is
matched in linear time; only a body that matches nothing is compared field by field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from receiver_rules import JsonObject, PublishedEvent, SeedRules, parse_instant

# A body that matches no event exactly is compared with at most this many candidates.
MAX_CANDIDATES_COMPARED = 20


@dataclass(frozen=True)
class BodyCheck:
    """The published event a body belongs to (if any) and what is wrong with the body."""

    event: PublishedEvent | None
    problems: list[str]


def canonical_json(value: Any) -> str:
    """JSON text that is equal exactly when the values are (true stays apart from 1)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def canonical_time(rules: SeedRules, value: Any) -> Any:
    """The instant a time names, to the second where the seed prints whole seconds."""
    instant = parse_instant(value)
    if instant is None:
        return value
    whole_seconds = rules.time_format is not None and rules.time_format.whole_seconds
    return math.floor(instant.timestamp()) if whole_seconds else instant.timestamp()


def canonical_body(rules: SeedRules, body: JsonObject) -> str:
    """The body with its times as instants and without the keys no event determines."""
    return canonical_json(
        {
            key: canonical_time(rules, value) if key in rules.time_keys else value
            for key, value in body.items()
            if key not in rules.any_string_keys
        }
    )


class PublishedIndex:
    """The published events by identity and by the canonical form of their expected body."""

    def __init__(self, rules: SeedRules, published: Sequence[PublishedEvent]) -> None:
        self.rules = rules
        self.events = tuple(published)
        self.by_identity: dict[str, list[PublishedEvent]] = {}
        self.by_body: dict[str, PublishedEvent] = {}
        for event in published:
            self.by_identity.setdefault(canonical_json(rules.event_identity(event)), []).append(event)
            self.by_body.setdefault(canonical_body(rules, rules.expected_body(event)), event)

    def match(self, body: JsonObject) -> BodyCheck:
        rules = self.rules
        problems = (
            any_string_problems(rules, body) + time_format_problems(rules, body) + rules.check_layout(body)
        )
        identity = rules.body_identity(body)
        exact = self.by_body.get(canonical_body(rules, body))
        if exact is not None and canonical_json(rules.event_identity(exact)) == canonical_json(identity):
            return BodyCheck(exact, problems)
        candidates = self.by_identity.get(canonical_json(identity), [])
        if not candidates:
            named = ", ".join(f"{name}={value!r}" for name, value in zip(rules.identity_names, identity))
            return BodyCheck(None, [f"matches no published event ({named})", *problems])
        scored = [
            (body_differences(rules, rules.expected_body(event), body), event)
            for event in candidates[:MAX_CANDIDATES_COMPARED]
        ]
        differences, event = min(scored, key=lambda pair: len(pair[0]))
        return BodyCheck(
            event, [f"body differs from published event {event.id}: {d}" for d in differences] + problems
        )


    def never_matched(self, matched: Iterable[PublishedEvent]) -> list[PublishedEvent]:
        """Events no request was matched to, nor to an event whose body would be the same."""
        rules = self.rules
        seen = {canonical_body(rules, rules.expected_body(event)) for event in matched}
        return [
            event for event in self.events if canonical_body(rules, rules.expected_body(event)) not in seen
        ]


def any_string_problems(rules: SeedRules, body: JsonObject) -> list[str]:
    """The keys whose value no published event determines: present, non-empty strings."""
    problems: list[str] = []
    for key in sorted(rules.any_string_keys):
        if key not in body:
            problems.append(f"body has no {key}")
        elif not isinstance(body[key], str) or not body[key]:
            problems.append(f"{key} is {json.dumps(body[key])}, expected a non-empty string")
    return problems


def time_format_problems(rules: SeedRules, body: JsonObject) -> list[str]:
    """Times not written the way the seed prints them."""
    if rules.time_format is None:
        return []
    pattern = rules.time_format.pattern
    return [
        f"{key} is {json.dumps(body[key])}, not in the seed's format {pattern.pattern}"
        for key in sorted(rules.time_keys)
        if key in body and not (isinstance(body[key], str) and pattern.fullmatch(body[key]))
    ]


def body_differences(rules: SeedRules, expected: JsonObject, actual: JsonObject) -> list[str]:
    """How `actual` differs from `expected` (missing and extra keys, then values)."""
    differences: list[str] = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected) - rules.any_string_keys)
    if missing:
        differences.append(f"missing keys {missing}")
    if extra:
        differences.append(f"unexpected keys {extra}")
    for key in sorted(set(expected) & set(actual)):
        if key in rules.time_keys:
            same = canonical_time(rules, expected[key]) == canonical_time(rules, actual[key])
        else:
            same = canonical_json(expected[key]) == canonical_json(actual[key])
        if not same:
            differences.append(f"{key} is {json.dumps(actual[key])}, expected {json.dumps(expected[key])}")
    return differences
