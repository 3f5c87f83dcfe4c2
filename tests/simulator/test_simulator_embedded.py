"""The simulator in a background thread: the embedded default and start_in_thread."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from tui.attentive.durations import DurationError
from tui.attentive.simulator.config import KeySpec, SimulatorConfig
from tui.attentive.simulator.demo import DEMO_KEYS
from tui.attentive.simulator.embedded import (
    JOB_DELAY_ENV,
    STATE_FILE_NAME,
    embedded_job_delay,
    embedded_simulator,
    start_in_thread,
)
from tui.attentive.simulator.state import StateFileError


def _get(url, key):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _post(url, key, body):
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_thread_simulator_serves_and_saves_on_stop(tmp_path):
    state_file = tmp_path / "state.json"
    running = start_in_thread(SimulatorConfig(keys={"k-123456": KeySpec("Thread Co")}, state_file=state_file))
    assert running.url.startswith("http://127.0.0.1:")
    assert _get(running.url + "/v1/me", "k-123456")["companyName"] == "Thread Co"
    assert _post(running.url + "/v1/attributes/custom", "k-123456",
                 {"user": {"email": "ada@example.com"}, "properties": {"a": "1"}}) == 200
    running.stop()
    running.stop()  # a second stop is harmless
    saved = json.loads(state_file.read_text())
    [company] = saved["companies"].values()
    assert company["profiles"][0]["custom"] == {"a": 1}  # "1" made "a" a Number: held as one
    with pytest.raises(urllib.error.URLError):
        _get(running.url + "/v1/me", "k-123456")


def test_thread_simulator_start_error_is_raised_to_the_caller(tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text("{broken")
    with pytest.raises(StateFileError):
        start_in_thread(SimulatorConfig(keys={}, state_file=state_file))


def test_embedded_simulator_starts_once_with_the_demo_companies(tmp_path):
    results = []
    threads = [threading.Thread(target=lambda: results.append(embedded_simulator(tmp_path))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(r) for r in results}) == 1
    url = results[0].url
    sandbox = _get(url + "/v1/me", DEMO_KEYS["sandbox"])
    production = _get(url + "/v1/me", DEMO_KEYS["production"])
    assert sandbox["companyName"] == "Northwind Outfitters (Sandbox)"
    assert production["companyName"] == "Northwind Outfitters"
    assert sandbox["companyId"] != production["companyId"]


@pytest.mark.parametrize("value, expected", [(None, (10.0, 40.0)), ("", (10.0, 40.0)), ("2s", (2.0, 2.0)),
                                             ("1m-5m", (60.0, 300.0))])
def test_embedded_job_delay_is_demoable_and_the_environment_overrides_it(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(JOB_DELAY_ENV, raising=False)
    else:
        monkeypatch.setenv(JOB_DELAY_ENV, value)
    assert embedded_job_delay() == expected


def test_a_bad_embedded_job_delay_names_the_variable(monkeypatch):
    monkeypatch.setenv(JOB_DELAY_ENV, "soon")
    with pytest.raises(DurationError) as caught:
        embedded_job_delay()
    assert str(caught.value).startswith("ATTENTIVE_CONSOLE_SIM_JOB_DELAY: 'soon' is not a duration")


def test_the_embedded_simulator_saves_quietly_when_the_process_exits(tmp_path):
    # The embedded simulator stops from atexit, after Python has shut the default executor: a
    # journal write handed to it then raised a traceback at the end of every short command.
    script = f"""
import json, urllib.request
from pathlib import Path
from tui.attentive.simulator.demo import DEMO_KEYS
from tui.attentive.simulator.embedded import embedded_simulator
running = embedded_simulator(Path({str(tmp_path)!r}))
body = json.dumps({{"user": {{"email": "ada@example.com"}}, "properties": {{"Tier": "Gold"}}}}).encode()
request = urllib.request.Request(running.url + "/v1/attributes/custom", data=body, method="POST",
    headers={{"Authorization": "Bearer " + DEMO_KEYS["sandbox"], "Content-Type": "application/json"}})
assert urllib.request.urlopen(request, timeout=10).status == 200
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    saved = json.loads((tmp_path / STATE_FILE_NAME).read_text())
    assert any(p["custom"] == {"Tier": "Gold"} for c in saved["companies"].values() for p in c["profiles"])
