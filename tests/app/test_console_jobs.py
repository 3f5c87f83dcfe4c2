"""Bulk jobs in the console: followed in the background while it is open, shown in History (per run and
in a run's jobs view), a bad key reported rather than fatal, and nothing followed when read-only.

The simulator's job time is a JobClock the test moves, so a job is PENDING exactly until the test says;
the follower's schedule is scaled down (POLL_SCALE) so its checks come within milliseconds."""
from __future__ import annotations

import os

from console_kit import FixedBackend, make_app, open_run, open_send, settle, wait_until
from core_kit import POLL_SCALE, core_app, screen_text
from simulator_fixtures import FULL_KEY, JobClock
from textual.widgets import DataTable

from tui.app.sections.history import READ_ONLY_JOBS, HistorySection
from tui.app.widgets.header import ConsoleHeader
from tui.app.widgets.run_detail import RunDetail
from tui.app.widgets.run_jobs import RunJobsScreen
from tui.attentive.simulator.faults import parse_fault_spec
from tui.settings.secrets import SecretsFile
from tui.sync.history import HistoryStore
from tui.sync.job_schedule import SCALE_VARIABLE

JOB_S = 60.0   # a job's length on the simulator's JobClock


async def send(pilot, key: str) -> None:
    """The shipped sample audience from Send: `S` the whole file (and yes), `m` a sample; waits for the send to end."""
    await open_send(pilot)
    await pilot.press(*(("S", "y") if key == "S" else (key,)))
    await settle(pilot)
    assert pilot.app.run_handle is None


def header_text(app) -> str:
    return str(app.query_one(ConsoleHeader).render())


async def test_the_console_follows_a_bulk_send_to_its_results_while_open(tmp_path, start_simulator, monkeypatch):
    monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=JOB_S)
    app = core_app(tmp_path, sim.url)
    async with app.run_test(size=(120, 40)) as pilot:  # wide enough for every count of the runs table
        await send(pilot, "S")
        await pilot.press("4")
        history = app.query_one(HistorySection)
        # checked at least once and still processing at Attentive
        await wait_until(pilot, lambda: history.followed is not None and history.followed.checks > 0
                         and bool(history.runs) and history.runs[0].jobs_pending > 0)
        awaiting = history.runs[0]
        assert (awaiting.status, awaiting.accepted) == ("awaiting_results", 0) and awaiting.submitted > 0
        text = screen_text(app)
        assert "awaiting" in text and f"{awaiting.jobs_pending} pending" in text
        assert f"{awaiting.jobs_pending} jobs pending" in header_text(app)

        clock.advance(JOB_S)  # Attentive completes every job
        await wait_until(pilot, lambda: history.runs[0].status == "finished")
        done = history.runs[0]
        assert (done.submitted, done.jobs_pending, done.jobs) == (0, 0, awaiting.jobs)
        assert done.accepted + done.rejected - awaiting.rejected == awaiting.submitted and done.accepted > 0
        text = screen_text(app)
        assert "finished" in text and f"{done.jobs} done" in text and f"{done.accepted:,}" in text
        assert "no send running" in header_text(app)
    with HistoryStore(app.session.data_dir, readonly=True) as store:
        assert store.outcome_counts(done.run_id)["accepted"] == done.accepted


async def test_the_jobs_view_shows_each_jobs_status_word_and_the_lines_kept_raw(tmp_path, start_simulator,
                                                                                monkeypatch):
    """Results in a format the tool cannot read: the rows stay unconfirmed and the lines are shown as
    Attentive wrote them; a status word the tool does not know is shown verbatim while pending."""
    monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=JOB_S,
                                faults=parse_fault_spec("jobstatus=THROTTLED,results=foreign"))
    app = core_app(tmp_path, sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "m")
        clock.advance(JOB_S / 2)  # past PENDING: the job reports THROTTLED
        await open_run(pilot)
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, RunJobsScreen)
        jobs = screen.query_one("#jobs-table", DataTable)
        await wait_until(pilot, lambda: jobs.row_count == 1 and "THROTTLED" in screen_text(app))
        row = [str(cell) for cell in jobs.get_row_at(0)]
        assert (row[3], row[6]) == ("pending", "THROTTLED")

        clock.advance(JOB_S)
        lines = screen.query_one("#job-lines", DataTable)
        await wait_until(pilot, lambda: lines.row_count > 0)
        row = [str(cell) for cell in jobs.get_row_at(0)]
        assert (row[3], row[6]) == ("completed", "COMPLETED")
        [job] = screen.jobs.values()
        assert lines.row_count == job.rows  # one foreign line per profile, none guessed at
        # The lines as Attentive wrote them, read from the table (the paint can lag the rows on a busy machine).
        first = [str(cell) for cell in lines.get_row_at(0)]
        assert first[1] == "unreadable" and first[2].startswith('{"input": {"identifiers": {"email": ')
        title = f"Attentive job {job.job_id}"
        await wait_until(pilot, lambda: title in screen_text(app))
        text = screen_text(app)
        assert f"Attentive job {job.job_id}" in text and "result line(s) kept raw" in text
        assert "run.jobs" not in {row[2] for row in app.visible_bindings()}  # the view's own keys
        await pilot.press("escape")
        assert not isinstance(app.screen, RunJobsScreen)
        assert "run.jobs" in {row[2] for row in app.visible_bindings()}
        run = app.query_one(RunDetail).run
        assert (run.unconfirmed, run.accepted, run.rejected) == (job.rows, 0, 0)  # nothing read, nothing guessed


async def test_a_bad_key_while_following_is_shown_once_and_following_goes_on(tmp_path, start_simulator,
                                                                            monkeypatch):
    monkeypatch.setenv(SCALE_VARIABLE, POLL_SCALE)
    clock = JobClock()
    sim = await start_simulator(clock=clock, bulk_job_delay_s=JOB_S)
    app = core_app(tmp_path, sim.url)
    shown: list[str] = []
    notify = app.notify

    def noted(message, **options):
        if options.get("title") == "Following bulk jobs":
            shown.append(message)
        return notify(message, **options)

    app.notify = noted  # type: ignore[method-assign]
    secrets = tmp_path / "secrets.toml"
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "m")
        SecretsFile(secrets).set("attentive", "a-revoked-key-0000")
        os.chmod(secrets, 0o600)
        status = app.query_one("#jobs-status")
        await wait_until(pilot, lambda: "problem:" in str(status.content))
        assert "401" in str(status.content) and "following retries" in str(status.content)
        assert app.is_running and len(shown) == 1

        [job] = app.backend.run_jobs(1)
        app.job_watch.wake()  # following goes on: the job is checked again when due, at the same bad key
        await wait_until(pilot, lambda: app.backend.run_jobs(1)[0].checks > job.checks)
        await settle(pilot)
        assert len(shown) == 1 and "problem:" in str(status.content)

        SecretsFile(secrets).set("attentive", FULL_KEY)  # the key is fixed: following carries on
        clock.advance(JOB_S)
        app.job_watch.wake()
        history = app.query_one(HistorySection)
        await wait_until(pilot, lambda: bool(history.runs) and history.runs[0].status == "finished")
        assert len(shown) == 1


async def test_a_read_only_console_shows_jobs_but_does_not_follow_them():
    app = make_app(read_only=True, backend=FixedBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        assert app.job_watch is None and not [w for w in app.workers if w.group == "follow-jobs"]
        assert READ_ONLY_JOBS in screen_text(app)
