"""The bulk results parser reads our simulator's lines and the plausible variants, and keeps what it
cannot read."""
from __future__ import annotations

import json

from tui.attentive.bulk_results import parse_text


def line(**fields) -> str:
    return json.dumps(fields)


def test_reads_the_simulator_line_format():
    text = "\n".join(
        [
            line(request={"identifiers": {"email": "a@example.com"}, "attributes": {"custom": {"t": 1}}},
                 response={"status": 200, "message": "OK"}),
            line(request={"identifiers": {"phone": "+13115552368"}}, response={"status": 400, "message": "attributes.custom.age: type is Number"}),
        ]
    )
    results = parse_text(text)
    first, second = results.records
    assert (first.identifier_kind, first.identifier, first.ok, first.status, first.message) == (
        "email", "a@example.com", True, 200, "OK")
    assert (second.identifier_kind, second.identifier, second.ok, second.status) == ("phone", "+13115552368", False, 400)
    assert second.message == "attributes.custom.age: type is Number"
    assert second.raw == text.splitlines()[1]
    assert results.unparsed == [] and results.ok


def test_accepts_status_code_v1_users_string_statuses_and_top_level_fields():
    text = "\n".join(
        [
            line(request={"user": {"email": "b@example.com"}}, response={"statusCode": 202}),
            line(request={"identifiers": {"email": "c@example.com"}}, response={"status": "400", "error": {"field": "x"}}),
            line(email="d@example.com", statusCode=500, message="internal"),
        ]
    )
    b, c, d = parse_text(text).records
    assert (b.identifier, b.status, b.ok, b.message) == ("b@example.com", 202, True, "")
    assert (c.identifier, c.status, c.ok, c.message) == ("c@example.com", 400, False, '{"field": "x"}')
    assert (d.identifier, d.status, d.message) == ("d@example.com", 500, "internal")


def test_keeps_lines_it_cannot_read_and_skips_blank_ones():
    readable = line(request={"identifiers": {"email": "a@example.com"}}, response={"status": 200})
    garbage = ["not json at all", "[1, 2, 3]", line(request={"identifiers": {"email": "x@example.com"}}),
               line(response={"status": True}), '{"truncated": ']
    text = "\ufeff" + readable + "\r\n\n   \n" + "\n".join(garbage) + "\n"
    results = parse_text(text)
    assert [r.identifier for r in results.records] == ["a@example.com"]
    assert results.unparsed == garbage


def test_a_record_without_identifiers_is_kept_with_its_status():
    [record] = parse_text(line(request={"identifiers": {"clientUserId": "c-1"}}, response={"status": 200})).records
    assert (record.identifier_kind, record.identifier, record.ok) == (None, None, True)
