"""Broken environment files: every problem is reported with file, line, column, the problem and a fix."""
from __future__ import annotations

from pathlib import Path

import pytest
from config_kit import SHIPPED

from tui.settings.errors import ConfigError
from tui.settings.loader import load_environment
from tui.settings.locate import KeyLocator, Position

BASE = """\
api_url = "embedded"
# line 2
[credentials.main]
api_key = "demo:sandbox"

[destinations.d]
credential = "main"
primary_identifier = "email"
identifiers = { email = "email" }
"""

LONG_NAME = "A" * 201


def edited(*, replace: tuple[str, str] | None = None, append: str = "") -> str:
    text = BASE
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    return text + append


# (id, file text, line of the problem, words the message must contain)
CASES = [
    ("malformed-value", edited(replace=('api_url = "embedded"', "api_url = embedded")), 1, "TOML syntax error: Invalid value"),
    ("duplicate-key", edited(append='primary_identifier = "phone"\n'), 10, "TOML syntax error: Cannot overwrite"),
    ("unterminated-string", edited(append='description = "open\n'), 10, "close the string on the line it opens"),
    ("unterminated-at-end", edited(append='description = """open\n'), 11, "Unterminated string at the end of the file"),
    ("unknown-top-key", edited(append='\n[acess]\nadmins = []\n'), 11, 'unknown key acess in the top level (did you mean "access"?)'),
    ("unknown-destination-key", edited(append="admin_onyl = true\n"), 10, 'unknown key admin_onyl in [destinations.d] (did you mean "admin_only"?)'),
    ("unknown-identifier-key", edited(replace=('{ email = "email" }', '{ email = "email", phnoe = "phone" }')), 9,
     'unknown key phnoe in [destinations.d.identifiers] (did you mean "phone"?)'),
    ("wrong-type-boolean", edited(append='admin_only = "yes"\n'), 10, "destinations.d.admin_only must be a boolean, not a string"),
    ("wrong-type-number", edited(append='rejection_threshold = "5%"\n'), 10, "rejection_threshold must be a number, not a string"),
    ("wrong-type-column", edited(replace=('{ email = "email" }', "{ email = 5 }")), 9, "identifiers.email must name a source column"),
    ("wrong-type-admins", edited(append='\n[access]\nadmins = "alice"\n'), 12, "access.admins must be an array, not a string"),
    ("missing-api-url", edited(replace=('api_url = "embedded"', "")), 1, "missing required key api_url"),
    ("missing-credential-field", edited(replace=('credential = "main"\n', "")), 6, "missing required key credential in [destinations.d]"),
    ("missing-api-key", edited(replace=('api_key = "demo:sandbox"\n', 'description = "x"\n')), 3, "missing required key api_key in [credentials.main]"),
    ("unknown-credential", edited(replace=('credential = "main"', 'credential = "mian"')), 7, 'credential "mian" is not defined in this file (did you mean "main"?)'),
    ("bad-primary-identifier", edited(replace=('primary_identifier = "email"', 'primary_identifier = "customer_id"')), 8,
     'primary_identifier must be "email" or "phone", not "customer_id"'),
    ("mapping-lacks-primary", edited(replace=('{ email = "email" }', '{ phone = "phone" }')), 9, "lacks the primary identifier email"),
    ("attribute-name-too-long", edited(append=f'attributes = {{ "{LONG_NAME}" = "x" }}\n'), 10, "attribute name is 201 characters, Attentive allows 200"),
    ("sensitive-government-id", edited(append='\n[destinations.d.attributes]\n"Social Security Number" = "ssn"\n'), 12,
     'sensitive-data category "government identifiers"'),
    ("sensitive-health-dotted-key", edited(append='attributes.Diagnosis = "dx"\n'), 10, 'sensitive-data category "health"'),
    ("sensitive-card-inline", edited(append='attributes = { "Loyalty Tier" = "tier", creditCardNumber = "cc" }\n'), 10,
     'sensitive-data category "financial account or card numbers"'),
    ("rate-limit-bulk", edited(append="rate_limit = 120\n"), 10, "rate_limit 120 is above the bulk endpoint's published limit of 100"),
    ("rate-limit-v1", edited(append='endpoint = "custom-attributes"\nrate_limit = 151\n'), 11,
     "above the custom-attributes endpoint's published limit of 150"),
    ("rate-limit-zero", edited(append="rate_limit = 0\n"), 10, "rate_limit 0 is below the lowest allowed, 0.1"),
    ("rate-limit-tiny", edited(append="rate_limit = 0.000001\n"), 10,
     "rate_limit 1e-06 is below the lowest allowed, 0.1 requests/second (one request every 10 seconds) "
     "(write at least 0.1, or remove rate_limit"),
    ("rate-limit-negative", edited(append="rate_limit = -5\n"), 10, "rate_limit -5 is below the lowest allowed"),
    ("rate-limit-nan", edited(append="rate_limit = nan\n"), 10, "rate_limit nan is below the lowest allowed"),
    ("rate-limit-inf", edited(append="rate_limit = inf\n"), 10, "rate_limit inf is above the bulk endpoint's published limit"),
    ("unknown-endpoint", edited(append='endpoint = "bulks"\n'), 10, 'unknown endpoint "bulks" (did you mean "bulk"?)'),
    ("threshold-out-of-range", edited(append="rejection_threshold = 1.5\n"), 10, "rejection_threshold 1.5 is outside 0..1"),
    ("unknown-phone-region", edited(append='phone_region = "USA"\n'), 10, 'unknown phone region "USA"'),
    ("raw-api-key", edited(replace=('"demo:sandbox"', '"sk_live_51HxQ9"')), 4, "not hold the key itself"),
    ("demo-key-real-url", edited(replace=('"embedded"', '"https://api.attentivemobile.com"')), 4,
     'demo keys only work with api_url = "embedded"'),
    ("bad-env-var", edited(replace=('"demo:sandbox"', '"env:1-KEY"')), 4, "environment variable after 'env:'"),
    ("wildcard-admin-real-url",
     edited(replace=('"demo:sandbox"', '"env:KEY"'), append='\n[access]\nadmins = ["*"]\n').replace('"embedded"', '"https://api.attentivemobile.com"'),
     12, 'admins = ["*"] (every login is an admin) is allowed only with api_url = "embedded"'),
    ("bad-api-url", edited(replace=('"embedded"', '"ftp://example.com"')), 1, 'api_url "ftp://example.com" is neither "embedded" nor an http(s) URL'),
    ("api-url-with-path", edited(replace=('"embedded"', '"https://api.attentivemobile.com/v1"')), 1,
     'has a path ("/v1") (write api_url = "https://api.attentivemobile.com": the client adds /v1 and /v2 itself)'),
    ("api-url-with-userinfo", edited(replace=('"embedded"', '"https://user:pass@api.attentivemobile.com"')), 1,
     "api_url holds a user name or password"),
    ("api-url-with-query", edited(replace=('"embedded"', '"https://api.attentivemobile.com?x=1"')), 1,
     'api_url has a query string (text after "?") (write api_url = "https://api.attentivemobile.com"'),
    ("api-url-with-fragment", edited(replace=('"embedded"', '"https://api.attentivemobile.com/#top"')), 1,
     'api_url has a fragment (text after "#") (write api_url = "https://api.attentivemobile.com")'),
    ("api-url-port-out-of-range", edited(replace=('"embedded"', '"http://127.0.0.1:65536"')), 1,
     "the port 65536 is outside 1..65535"),
    ("api-url-port-zero", edited(replace=('"embedded"', '"http://127.0.0.1:0"')), 1, "the port 0 is outside 1..65535"),
    ("api-url-port-not-a-number", edited(replace=('"embedded"', '"http://127.0.0.1:87a7"')), 1, 'the port "87a7" is not a number'),
    ("api-url-unreadable", edited(replace=('"embedded"', '"http://[::1"')), 1, 'api_url "http://[::1" is not a URL that can be read'),
    ("api-url-no-host", edited(replace=('"embedded"', '"https://:443"')), 1, 'api_url "https://:443" names no host'),
    ("unknown-credential-type", edited(replace=('api_key = "demo:sandbox"', 'type = "oauth"\napi_key = "demo:sandbox"')), 4,
     'unknown credential type "oauth"'),
    ("destinations-array", edited(replace=("[destinations.d]", "[[destinations]]")), 6, "destinations must be a table, not an array"),
    ("empty-attribute-column", edited(append='attributes = { Points = "" }\n'), 10, "attributes.Points must name a source column"),
    ("unknown-type-name", edited(append='attributes = { Zip = "zip" }\ntypes = { Zip = "integer" }\n'), 11,
     "types.Zip: unknown type 'integer' for attribute 'Zip' (use one of \"string\", \"number\", \"boolean\", \"date\")"),
    ("type-for-nothing", edited(append='types = { Zip = "string" }\n'), 10, "neither a mapped attribute nor a constant"),
    ("empty-constant", edited(append='constants = { Campaign = " " }\n'), 10, "constants.Campaign: constant 'Campaign' is empty"),
    ("constant-not-its-type", edited(append='constants = { Wave = "three" }\ntypes = { Wave = "number" }\n'), 11,
     "constant 'Wave' = 'three' is not a number"),
    ("constant-not-text", edited(append='constants = { Wave = 3 }\n'), 10, "constant 'Wave' must be text, not int"),
    ("constant-clashes-with-mapped", edited(append='attributes = { Tier = "tier" }\n\n[destinations.d.constants]\nTier = "Gold"\n'),
     13, "constant 'Tier' has the same name as the mapped attribute 'Tier' (column 'tier')"),
    ("sensitive-constant", edited(append='constants = { "Diagnosis" = "flu" }\n'), 10,
     'constants.Diagnosis: attribute name \'Diagnosis\' falls into the sensitive-data category "health"'),
]


@pytest.mark.parametrize(("text", "line", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_config_names_file_line_and_problem(tmp_path: Path, text: str, line: int, words: str):
    path = tmp_path / "sandbox.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_environment(tmp_path, "sandbox")
    matching = [p for p in caught.value.problems if words in p.message + f" ({p.fix})"]
    assert matching, f"no problem mentions {words!r}:\n{caught.value}"
    problem = matching[0]
    assert (problem.file, problem.line) == (path, line)
    assert problem.fix
    assert f"{path}:{line}:{problem.column}: " in str(caught.value)


def test_the_base_config_is_valid(tmp_path: Path):
    (tmp_path / "sandbox.toml").write_text(BASE)
    environment = load_environment(tmp_path, "sandbox")
    assert environment.destinations["d"].identifiers == {"email": "email"}


@pytest.mark.parametrize("rate", ["0.1", "100"])  # the lowest allowed and the bulk endpoint's published limit
def test_rate_limits_at_the_bounds_are_accepted(tmp_path: Path, rate: str):
    (tmp_path / "sandbox.toml").write_text(edited(append=f"rate_limit = {rate}\n"))
    assert load_environment(tmp_path, "sandbox").destinations["d"].rate_limit == float(rate)


def test_every_problem_is_reported_at_once(tmp_path: Path):
    text = edited(replace=('credential = "main"', 'credential = "nope"'),
                  append='endpoint = "v3"\nrejection_threshold = -1\nattributes = { Race = "r" }\n')
    (tmp_path / "sandbox.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_environment(tmp_path, "sandbox")
    assert [p.line for p in caught.value.problems] == [7, 10, 11, 12]
    assert "racial or ethnic origin" in str(caught.value)


def test_a_pasted_key_never_appears_in_the_error(tmp_path: Path):
    (tmp_path / "sandbox.toml").write_text(edited(replace=('"demo:sandbox"', '"sk_live_CANARY_9f8e7d"')))
    with pytest.raises(ConfigError) as caught:
        load_environment(tmp_path, "sandbox")
    assert "CANARY" not in str(caught.value)


def test_missing_file_and_non_utf8_name_the_file(tmp_path: Path):
    with pytest.raises(ConfigError) as missing:
        load_environment(tmp_path, "production")
    assert f"{tmp_path / 'production.toml'}:1:1: environment file not found" in str(missing.value)
    (tmp_path / "sandbox.toml").write_bytes(b'api_url = "embedded"\n# caf\xe9\n')
    with pytest.raises(ConfigError) as binary:
        load_environment(tmp_path, "sandbox")
    assert f"{tmp_path / 'sandbox.toml'}:2:6: the file is not UTF-8 text" in str(binary.value)


def test_shipped_config_is_valid():
    sandbox = load_environment(SHIPPED, "sandbox")
    production = load_environment(SHIPPED, "production")
    assert sandbox.embedded and production.embedded
    assert list(sandbox.destinations) == ["loyalty-attributes", "slow-demo"] and not production.destinations
    demo = sandbox.destinations["slow-demo"]   # slow on purpose: pause, rate and cancel can be tried
    assert (demo.endpoint, demo.rate_limit) == ("custom-attributes", 50) and demo.description.startswith("DEMO")
    assert sandbox.destinations["loyalty-attributes"].attributes["Phone Number"] == "phone"
    assert sandbox.credentials["attentive"].api_key_ref == "demo:sandbox"
    assert production.credentials["attentive"].api_key_ref == "demo:production"


LOCATOR_TEXT = """\
# [not.a.table] in a comment
title = '''multi
[also.not] = "a table"'''
[a . "b.c"]   # quoted dotted header
x.y = { z = 1, "w w" = [1, { v = 2 }] }
s = "esc \\" [q] = 3"

[[arr]]
k = 1
[[arr]]
k = 2
"""


@pytest.mark.parametrize(("path", "position"), [
    (("title",), Position(2, 1)),
    (("a", "b.c"), Position(4, 6)),
    (("a", "b.c", "x"), Position(5, 1)),
    (("a", "b.c", "x", "y"), Position(5, 3)),
    (("a", "b.c", "x", "y", "z"), Position(5, 9)),
    (("a", "b.c", "x", "y", "w w"), Position(5, 16)),
    (("a", "b.c", "x", "y", "w w", 1, "v"), Position(5, 30)),
    (("a", "b.c", "s"), Position(6, 1)),
    (("arr", 1, "k"), Position(11, 1)),
    (("a", "b.c", "missing"), Position(4, 6)),
])
def test_locator_finds_keys_in_every_toml_form(path, position):
    assert KeyLocator(LOCATOR_TEXT).key(path) == position


def test_locator_value_positions():
    locator = KeyLocator(LOCATOR_TEXT)
    assert locator.value(("a", "b.c", "x", "y", "w w", 0)) == Position(5, 25)
    assert locator.value(("a", "b.c", "s")) == Position(6, 5)


@pytest.mark.parametrize("url", ["https://api.attentivemobile.com", "https://api.attentivemobile.com/",
                                 "http://127.0.0.1:8787", "https://127.0.0.1:1", "http://[::1]:65535"])
def test_a_bare_server_address_is_accepted(tmp_path: Path, url: str):
    (tmp_path / "sandbox.toml").write_text(
        edited(replace=('"demo:sandbox"', '"env:KEY"')).replace('"embedded"', f'"{url}"'))
    assert load_environment(tmp_path, "sandbox").api_url == url


@pytest.mark.parametrize("url", ["https://ops:CANARY-pw@api.attentivemobile.com", "https://CANARY@api.attentivemobile.com/v1",
                                 "ftp://ops:CANARY@example.com", "https://api.attentivemobile.com?api_key=CANARY",
                                 "https://api.attentivemobile.com/v1?api_key=CANARY", "http://127.0.0.1:99999#CANARY"])
def test_a_secret_in_the_url_is_never_echoed(tmp_path: Path, url: str):
    (tmp_path / "sandbox.toml").write_text(edited(replace=('"embedded"', f'"{url}"')))
    with pytest.raises(ConfigError) as caught:
        load_environment(tmp_path, "sandbox")
    [problem] = [p for p in caught.value.problems if p.message.startswith("api_url")]
    assert problem.line == 1 and "CANARY" not in str(caught.value)
