"""`attentive-console simulator`: options, errors, and what it prints."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tui.attentive.endpoints import Permission
from tui.attentive.simulator.standalone import READY_PREFIX, config_from_args
from tui.cli import simulator_cmd


def parse(*argv):
    parser = argparse.ArgumentParser(prog="attentive-console")
    simulator_cmd.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["simulator", *argv])


@pytest.mark.parametrize(
    "spec, message",
    [
        ("500=2", "argument --faults: '500=2': 2.0 is outside 0..1"),
        ("teapot=0.1", ("unknown fault 'teapot'; known: 500, 503, 429burst, latency, drop, slow, me, jobfail, nourl, "
                        "job404, jobstatus, results, u2028")),
        ("latency=fast", "'latency=fast': 'fast' is not a duration; write it like 50ms or 2s"),
    ],
)
def test_bad_faults_spec_exits_2_with_a_clear_message(capsys, spec, message):
    with pytest.raises(SystemExit) as caught:
        parse("--faults", spec)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_key_permission_exits_2_without_showing_the_key(capsys):
    with pytest.raises(SystemExit) as caught:
        parse("--key", "secret-key-value-9876=attributes,marketing")
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert "unknown permission marketing" in err
    assert "secret-key-value" not in err and "****9876" in err


def test_keys_limits_and_enums_become_the_config():
    args = parse("--key", "full-key", "--key", "attr-key=attributes", "--no-rate-limits", "--job-delay", "1.5",
                 "--limit", "bulk=20", "--enum", "Tier=Gold,Silver", "--seed", "9", "--faults", "500=0.1")
    config = config_from_args(args)
    assert config.keys["full-key"].permissions == frozenset(Permission)
    assert config.keys["attr-key"].permissions == {Permission.ATTRIBUTES}
    assert config.keys["full-key"].resolved_company_id == config.keys["attr-key"].resolved_company_id
    assert (config.rate_limits, config.bulk_job_delay_range_s, config.seed) == (False, (1.5, 1.5), 9)
    assert config.limit_for("bulk") == 20 and config.limit_for("custom-attributes") == 150
    assert config.enum_attributes == {"Tier": frozenset({"Gold", "Silver"})}
    assert config.faults.rate_500 == 0.1


@pytest.mark.parametrize("given, expected", [("90s", (90, 90)), ("2h", (7200, 7200)), ("30s-2m", (30, 120)), ("0", (0, 0))])
def test_job_delay_takes_durations_and_ranges(given, expected):
    assert config_from_args(parse("--job-delay", given)).bulk_job_delay_range_s == expected


def test_default_job_delay_is_short_and_a_bad_one_says_how_to_write_it(capsys):
    assert config_from_args(parse()).bulk_job_delay_range_s == (0.2, 0.2)
    with pytest.raises(SystemExit):
        parse("--job-delay", "2m-30s")
    assert "argument --job-delay: '2m-30s' runs backwards" in capsys.readouterr().err


def test_without_keys_the_demo_keys_serve():
    config = config_from_args(parse())
    assert {spec.company_name for spec in config.keys.values()} == {"Northwind Outfitters (Sandbox)", "Northwind Outfitters"}


def test_command_prints_url_and_masked_keys_and_stops_on_ctrl_c():
    cli = Path(sys.executable).parent / "attentive-console"
    process = subprocess.Popen([str(cli), "simulator", "--port", "0", "--key", "visible-secret-abcd1234",
                                "--job-delay", "30s-2m"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:  # the banner ends with the state line
        lines.append(line)
        if line.strip().startswith("state:"):
            break
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=15)
    output = "".join(lines) + rest
    assert process.returncode == 0, err
    assert lines[0].startswith(READY_PREFIX + "http://127.0.0.1:")
    assert "****1234" in output and "visible-secret" not in output + err
    assert "bulk jobs complete after 30s-2m" in output
    assert "simulator stopped" in rest


def test_unreadable_state_file_exits_2_naming_it(tmp_path, capsys):
    state_file = tmp_path / "state.json"
    state_file.write_text("{oops")
    args = parse("--port", "0", "--state", str(state_file))
    assert simulator_cmd.run(args) == 2
    err = capsys.readouterr().err
    assert f"{state_file}: cannot read the simulator state" in err
    assert "Traceback" not in err
