"""Request bodies as bytes: orjson where it can, json where it refuses, the same JSON either way."""
from __future__ import annotations

import json

import pytest

from tui.attentive import json_body, payloads

COMPACT = {"ensure_ascii": False, "separators": (",", ":")}


@pytest.mark.parametrize("custom", [
    {"tier": "gold", "visits": 3, "ratio": 0.1, "vip": True, "note": None},
    {"name": "Zoë Ångström 東京", "quote": 'say "hi"\\n', "tab": "a\tb"},
    {"big": 2**63 - 1, "negative": -(2**63), "float": 1e16, "tiny": 5e-324},
])
def test_a_body_encodes_to_compact_utf8_json_that_reads_back_the_same(custom):
    body = payloads.bulk_body(payloads.bulk_items("email", [("ada@example.com", custom, None)]))
    encoded = json_body.encode(body)
    assert json.loads(encoded) == body
    assert b'{"users":[{"identifiers":{"email":"ada@example.com"}' in encoded   # compact, as the client always sent
    assert "\\u" not in encoded.decode()   # non-ASCII travels as UTF-8, not escaped


def test_what_orjson_refuses_still_encodes():
    body = {"users": [{"identifiers": {"email": "ada@example.com"}, "attributes": {"custom": {"huge": 10**30}}}]}
    assert json_body.encode(body) == json.dumps(body, **COMPACT).encode()
