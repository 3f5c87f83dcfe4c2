"""The bulk results parser reads our simulator's lines and the plausible variants, and keeps what it
cannot read."""
from __future__ import annotations

import json

import pytest

from tui.attentive.bulk_results import UnreadLine, parse_bytes, parse_text


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
    assert second.raw == text.split("\n")[1]
    assert (first.line_no, second.line_no) == (1, 2)
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


def test_keeps_lines_it_cannot_read_with_their_line_numbers_and_skips_blank_ones():
    readable = line(request={"identifiers": {"email": "a@example.com"}}, response={"status": 200})
    garbage = ["not json at all", "[1, 2, 3]", line(request={"identifiers": {"email": "x@example.com"}}),
               line(response={"status": True}), '{"truncated": ']
    text = "\ufeff" + readable + "\r\n\n   \n" + "\n".join(garbage) + "\n"
    results = parse_text(text)
    assert [(r.identifier, r.line_no) for r in results.records] == [("a@example.com", 1)]
    assert results.unparsed == [UnreadLine(n, g) for n, g in enumerate(garbage, start=4)]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_a_line_separator_other_than_newline_inside_a_value_stays_one_record(separator):
    value = f"a{separator}b"
    raw = json.dumps({"request": {"identifiers": {"email": "a@example.com"}, "note": value},
                      "response": {"status": 400, "message": f"bad {value}"}}, ensure_ascii=False)
    assert separator in raw  # written raw, as JSON allows, not escaped
    results = parse_text(raw + "\n" + line(request={"identifiers": {"email": "b@example.com"}}, response={"status": 200}))
    first, second = results.records
    assert (first.identifier, first.message, first.raw, first.line_no) == ("a@example.com", f"bad {value}", raw, 1)
    assert (second.identifier, second.line_no) == ("b@example.com", 2)
    assert results.unparsed == []


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e"])
def test_a_raw_control_character_leaves_its_line_whole_and_unread(control):
    # JSON must escape these, so such a line is unreadable, but it is still one line of the file.
    bad = '{"email": "a@example.com", "status": 200, "message": "a' + control + 'b"}'
    results = parse_text(bad + "\n" + line(email="b@example.com", status=200))
    assert results.unparsed == [UnreadLine(1, bad)]
    assert [(r.identifier, r.line_no) for r in results.records] == [("b@example.com", 2)]


def test_reads_crlf_files_and_a_bom_only_at_the_start():
    first = line(request={"identifiers": {"email": "a@example.com"}}, response={"status": 200})
    second = line(request={"identifiers": {"email": "b@example.com"}}, response={"status": 200})
    results = parse_text("\ufeff" + first + "\r\n" + "\ufeff" + second + "\r\n")
    [record] = results.records
    assert (record.identifier, record.raw) == ("a@example.com", first)
    assert results.unparsed == [UnreadLine(2, "\ufeff" + second)]  # a BOM mid-file is not a BOM


def test_bytes_that_are_not_utf8_cost_a_character_not_the_file():
    good = line(request={"identifiers": {"email": "a@example.com"}}, response={"status": 200}).encode()
    bad = b'{"request": {"identifiers": {"email": "b@example.com"}}, "response": {"status": 400, "message": "x\xff\xc3"}}'
    results = parse_bytes(good + b"\r\n" + bad + b"\n\xfe\xfe\n")
    a, b = results.records
    assert (a.identifier, b.identifier, b.status, b.message) == ("a@example.com", "b@example.com", 400, "x\ufffd\ufffd")
    assert results.unparsed == [UnreadLine(3, "\ufffd\ufffd")]


def test_bytes_in_utf8_decode_as_text():
    raw = json.dumps({"email": "é@example.com", "status": 200, "message": "ok\u2028"}, ensure_ascii=False)
    [record] = parse_bytes(b"\xef\xbb\xbf" + raw.encode()).records
    assert (record.identifier, record.message, record.raw) == ("é@example.com", "ok\u2028", raw)


def test_a_record_without_identifiers_is_kept_with_its_status():
    text = line(request={"identifiers": {"clientUserId": "c-1"}}, response={"status": 200})
    results = parse_text(text)
    [record] = results.records
    assert (record.identifier_kind, record.identifier, record.ok, record.raw) == (None, None, True, text)
    assert results.unparsed == []
