"""Bulk jobs as Attentive runs them: a send submits and ends, a follower folds each job's answer once,
and nothing the tool cannot read is counted rejected or failed, or posted again on its own.

Every status path of jobs.py against a stand-in whose answers the test writes (fake_attentive.py),
with the follower on a virtual clock: the minutes and days Attentive takes pass at once."""
from __future__ import annotations

import json
import time

from fake_attentive import FakeJob, ok_lines
from sync_kit import follow_jobs, loyalty, send, valid_row, write_jsonl
from virtual_clock import VirtualClock

from tui.attentive.secret import ApiKey
from tui.sync import reasons
from tui.sync.history import HistoryStore
from tui.sync.history_schema import JOB_PENDING, connect
from tui.sync.job_schedule import JOB_RETENTION_S
from tui.sync.job_store import STILL_SUBMITTED, JobStore
from tui.sync.jobs import FollowTarget, JobFollower
from tui.sync.rejections import RejectionFilter, RejectionLog

ROWS = 300  # two bulk batches: 256 + 44


def audience(tmp_path, rows: int = ROWS, **changes):
    return write_jsonl(tmp_path / "audience.jsonl", [{**valid_row(i), **changes} for i in range(rows)])


def reasons_of(data, run_id: int) -> dict[str, int]:
    with HistoryStore(data, readonly=True) as store:
        return RejectionLog(store.connection, run_id).facets().reasons


def jobs_of(data, run_id: int):
    with HistoryStore(data, readonly=True) as store:
        jobs = JobStore(store.connection)
        return [(job, jobs.lines(job.id)) for job in jobs.jobs(run_ids=[run_id])]


async def test_a_send_ends_at_submission_and_the_follower_folds_every_result_once(fake_attentive, tmp_path):
    data = tmp_path / "data"
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path), follow=False)
    run = sent.run
    assert (run.status, run.submitted, run.accepted, run.failed) == ("awaiting_results", ROWS, 0, 0)
    assert fake_attentive.posts == 2 and fake_attentive.status_calls == 0
    await follow_jobs(fake_attentive, data, loyalty())
    await follow_jobs(fake_attentive, data, loyalty())  # nothing left: folding again changes nothing
    with HistoryStore(data, readonly=True) as store:
        run = store.get_run(run.id)
        assert store.outcome_counts(run.id)["accepted"] == ROWS
    assert (run.status, run.accepted, run.submitted, run.unconfirmed) == ("finished", ROWS, 0, 0)
    assert fake_attentive.status_calls == 2 and set(fake_attentive.posted.values()) == {1}


async def test_a_failed_job_fails_its_rows_with_its_message_and_retry_sends_only_those(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.status = lambda job, n: (
        (200, {"bulkJobId": job.id, "status": "FAILED", "errorMessage": "ingestion backlog, try later"})
        if job.id == "job-2" else (200, {"status": "COMPLETED", "url": fake_attentive.results_url(job)}))
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path))
    assert (sent.run.status, sent.run.accepted, sent.run.failed) == ("finished", 256, 44)
    with HistoryStore(data, readonly=True) as store:
        [failed] = RejectionLog(store.connection, sent.run.id).page(RejectionFilter(reason=reasons.JOB_FAILED),
                                                                       limit=1)
    assert "ingestion backlog, try later" in failed.message
    [_, (job2, _)] = jobs_of(data, sent.run.id)
    assert (job2.state, job2.status, job2.message) == ("failed", "FAILED", "ingestion backlog, try later")
    fake_attentive.status = None
    posted_before = dict(fake_attentive.posted)
    retry = await send(fake_attentive, data, loyalty(), None, retry_of=sent.run.id)
    assert (retry.run.rows_read, retry.run.accepted) == (44, 44)
    again = {ident for ident, count in fake_attentive.posted.items() if count > posted_before.get(ident, 0)}
    assert again == {f"member{i}@example.com" for i in range(256, ROWS)}


async def test_an_unknown_status_word_is_kept_verbatim_and_the_job_stays_pending(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.status = lambda job, n: (200, {"status": "THROTTLED_BY_REGION", "note": "queued"}) if n < 3 else \
        (200, {"status": "COMPLETED", "url": fake_attentive.results_url(job)})
    await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=10), follow=False)
    clock = VirtualClock(wall_start=time.time())
    first = await follow_jobs(fake_attentive, data, loyalty(), clock=clock, timeout_s=200)
    assert first.timed_out
    [(job, _)] = jobs_of(data, 1)
    assert (job.state, job.status, job.checks) == (JOB_PENDING, "THROTTLED_BY_REGION", 2)
    assert json.loads(job.body) == {"status": "THROTTLED_BY_REGION", "note": "queued"}
    assert "not one this tool knows" in job.message
    await follow_jobs(fake_attentive, data, loyalty(), clock=clock)
    [(job, _)] = jobs_of(data, 1)
    assert (job.state, job.status) == ("completed", "COMPLETED") and fake_attentive.posts == 1


async def test_completed_without_a_url_leaves_rows_unconfirmed_not_failed(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.status = lambda job, n: (200, {"status": "COMPLETED", "totalRecords": len(job.users)})
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=20))
    assert (sent.run.status, sent.run.unconfirmed, sent.run.failed, sent.run.rejected) == ("finished", 20, 0, 0)
    assert reasons_of(data, 1) == {reasons.JOB_WITHOUT_RESULTS: 20}


async def test_404_5xx_and_unreadable_status_answers_are_checked_again_never_reposted(fake_attentive, tmp_path):
    data = tmp_path / "data"
    answers = {1: (404, {"message": "not visible yet"}), 2: (503, {"message": "busy"}), 3: (200, {"state": "odd"})}
    fake_attentive.status = lambda job, n: answers.get(n, (200, {"status": "COMPLETED",
                                                               "url": fake_attentive.results_url(job)}))
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=10),
                      client_options={"backoff_base_s": 0.001, "backoff_cap_s": 0.002})
    assert (sent.run.status, sent.run.accepted) == ("finished", 10)
    assert fake_attentive.posts == 1 and fake_attentive.posted["member0@example.com"] == 1


async def test_a_results_file_in_an_unknown_format_counts_nothing_rejected_and_keeps_every_line(fake_attentive,
                                                                                               tmp_path):
    data = tmp_path / "data"
    fake_attentive.results = lambda job: "".join(
        f'{{"input": {{"mail": "{u["identifiers"]["email"]}"}}, "result": "SUCCESS"}}\n' for u in job.users).encode() \
        + b"trailer,not,json\n"
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=12))
    run = sent.run
    assert (run.status, run.unconfirmed, run.rejected, run.failed, run.accepted) == ("finished", 12, 0, 0, 0)
    [(job, lines)] = jobs_of(data, run.id)
    assert len(lines) == 13 and {line.problem for line in lines} == {"unreadable"}
    assert lines[-1].text == "trailer,not,json" and '"mail": "member0@example.com"' in lines[0].text
    assert "13 result lines kept raw" in job.message


async def test_line_separators_inside_values_stay_one_record(fake_attentive, tmp_path):
    data = tmp_path / "data"
    rows = [{**valid_row(i), "tier": f"Gold\u2028{'x' * i}\u2029\u0085"} for i in range(30)]
    sent = await send(fake_attentive, data, loyalty(), write_jsonl(tmp_path / "a.jsonl", rows))
    assert (sent.run.accepted, sent.run.unconfirmed) == (30, 0)
    assert "\u2028" in fake_attentive.results(next(iter(fake_attentive.jobs.values()))).decode()


async def test_lines_naming_other_profiles_or_none_are_kept_and_silent_profiles_unconfirmed(fake_attentive, tmp_path):
    data = tmp_path / "data"

    def results(job: FakeJob) -> bytes:
        lines = ok_lines(job).decode().splitlines(keepends=True)
        lines[0] = lines[0].replace("member0@example.com", "MEMBER0@EXAMPLE.COM")  # echoed case-folded: matched
        stranger = json.dumps({"request": {"identifiers": {"email": "x@example.com"}}, "response": {"status": 200}})
        nameless = json.dumps({"response": {"status": 400, "message": "bad"}})
        return ("".join(lines[:-1]) + stranger + "\n" + nameless + "\n" + lines[1]).encode()

    fake_attentive.results = results
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=5))
    assert (sent.run.accepted, sent.run.unconfirmed, sent.run.rejected) == (4, 1, 0)
    [(_, lines)] = jobs_of(data, 1)
    assert [line.problem for line in lines] == ["unmatched", "unmatched", "duplicate"]


async def test_a_2xx_without_a_readable_job_id_is_unconfirmed_and_never_split(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.post_answer = lambda job_id: (202, "<html>accepted</html>")
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path))
    assert (sent.run.status, sent.run.unconfirmed, sent.run.failed) == ("finished", ROWS, 0)
    assert fake_attentive.posts == 2 and reasons_of(data, 1) == {reasons.NO_JOB_ID: ROWS}
    with HistoryStore(data, readonly=True) as store:
        [entry] = RejectionLog(store.connection, 1).page(RejectionFilter(), limit=1)
    assert "<html>accepted</html>" in entry.message


async def test_a_malformed_results_url_is_a_failed_download_checked_again(fake_attentive, tmp_path):
    data = tmp_path / "data"
    urls = {1: "ht!tp://[broken", 2: "/results/../../etc\n", 3: "ftp://example.com/x.jsonl"}
    fake_attentive.status = lambda job, n: (200, {"status": "COMPLETED",
                                                  "url": urls.get(n, fake_attentive.results_url(job))})
    await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=8), follow=False)
    clock = VirtualClock(wall_start=time.time())
    await follow_jobs(fake_attentive, data, loyalty(), clock=clock, timeout_s=60 + 60 + 120 + 1)
    [(job, _)] = jobs_of(data, 1)
    assert job.state == JOB_PENDING and job.checks == 3 and "results download failed" in job.message
    await follow_jobs(fake_attentive, data, loyalty(), clock=clock)
    [(job, _)] = jobs_of(data, 1)
    assert job.state == "completed" and fake_attentive.posts == 1


async def test_a_results_redirect_is_followed_and_the_key_never_leaves_the_origin(fake_attentive, tmp_path):
    data = tmp_path / "data"
    other_origin = fake_attentive.url.replace("127.0.0.1", "localhost")
    redirects = {"/hop/same": f"{fake_attentive.url}/hop/away", "/hop/away": None}
    original = fake_attentive.handle

    async def handle(request):
        from aiohttp import web
        if request.path in redirects:
            fake_attentive.seen_auth.append((request.path, request.headers.get("Authorization")))
            job = next(iter(fake_attentive.jobs))
            target = redirects[request.path] or f"{other_origin}/results/{job}.jsonl"
            raise web.HTTPFound(target)
        return await original(request)

    fake_attentive.handle = handle  # type: ignore[method-assign]
    fake_attentive.status = lambda job, n: (200, {"status": "COMPLETED", "url": f"{fake_attentive.url}/hop/same"})
    sent = await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=6))
    assert sent.run.accepted == 6
    auth = {path: value for path, value in fake_attentive.seen_auth}
    assert auth["/hop/same"] and auth["/hop/away"]        # same origin: the key goes along
    assert auth["/results/job-1.jsonl"] is None          # another origin: never


async def test_submitted_profiles_are_skipped_pending_until_their_job_fails(fake_attentive, tmp_path):
    data = tmp_path / "data"
    source = audience(tmp_path, rows=20)
    await send(fake_attentive, data, loyalty(), source, follow=False)
    second = await send(fake_attentive, data, loyalty(), source, follow=False)
    assert (second.run.skipped_pending, second.run.submitted, second.run.status) == (20, 0, "finished")
    assert fake_attentive.posts == 1
    fake_attentive.status = lambda job, n: (200, {"status": "FAILED", "message": "backlog"})
    await follow_jobs(fake_attentive, data, loyalty())
    third = await send(fake_attentive, data, loyalty(), source, follow=False)
    assert third.run.submitted == 20 and fake_attentive.posts == 2


async def test_a_job_without_a_final_status_expires_after_two_weeks(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.status = lambda job, n: (200, {"status": "IN_PROGRESS"})
    await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=5), follow=False)
    clock = VirtualClock(wall_start=time.time())
    result = await follow_jobs(fake_attentive, data, loyalty(), clock=clock, timeout_s=JOB_RETENTION_S + 7200)
    assert not result.timed_out
    [(job, _)] = jobs_of(data, 1)
    assert job.state == "expired" and job.checks < 400  # an hour apart at most: about 340 checks in two weeks
    assert reasons_of(data, 1) == {reasons.JOB_EXPIRED: 5}


async def test_two_followers_fold_a_job_once(fake_attentive, tmp_path):
    data = tmp_path / "data"
    await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=10), follow=False)
    with HistoryStore(data) as store:
        jobs = JobStore(store.connection)
        [job] = jobs.jobs()
        from tui.sync.job_results import failed
        resolution = failed(job, jobs.job_rows(job.id), status="FAILED", body="{}", message="first")
        assert jobs.resolve(job, time.time(), resolution) is True
        assert jobs.resolve(job, time.time(), resolution) is False
        run = store.get_run(1)
        assert (run.failed, run.submitted, run.status) == (10, 0, "finished")
    assert reasons_of(data, 1) == {reasons.JOB_FAILED: 10}


async def test_a_test_sends_read_back_waits_for_its_jobs_and_is_retried_until_it_matches(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.visible = False  # Attentive shows the change only hours after the job completed
    await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=200), sample=20, follow=False)
    clock = VirtualClock(wall_start=time.time())
    clock.at(clock.now + 3 * 3600, lambda: setattr(fake_attentive, "visible", True))
    target = FollowTarget(fake_attentive.url, ApiKey(fake_attentive.full_key), loyalty())
    async with JobFollower(data, lambda run: target, clock=clock) as follower:
        first = await follower.follow(wait_read_backs=True)
        assert first.verifications[1].verdict == "pending" and first.verifications[1].missing == 20
        with HistoryStore(data, readonly=True) as store:
            assert store.latest_verification(1).verdict == "pending"
            assert JobStore(store.connection).read_back_of(1) is not None
        while follower.verifications[1].verdict == "pending":
            clock.advance(600)
            await follower.check_due()
        assert clock.now - 1000 >= 3 * 3600
    with HistoryStore(data, readonly=True) as store:
        settled = store.latest_verification(1)
        assert (settled.verdict, settled.matched, settled.passed) == ("matched", 20, True)
        assert JobStore(store.connection).read_back_of(1) is None


async def test_a_read_back_that_never_matches_is_mismatched_when_its_window_ends(fake_attentive, tmp_path):
    data = tmp_path / "data"
    fake_attentive.visible = False
    await send(fake_attentive, data, loyalty(), audience(tmp_path, rows=50), sample=10, follow=False,
               verify_window_s=6 * 3600)
    clock = VirtualClock(wall_start=time.time())
    await follow_jobs(fake_attentive, data, loyalty(), clock=clock)
    attempts = 1
    while True:
        clock.advance(3600)
        await follow_jobs(fake_attentive, data, loyalty(), clock=clock, wait_read_backs=False)
        with HistoryStore(data, readonly=True) as store:
            check = store.latest_verification(1)
            if JobStore(store.connection).read_back_of(1) is None:
                break
        attempts += 1
        assert attempts < 20
    assert (check.verdict, check.missing, check.passed) == ("mismatched", 10, False)


def test_a_jobs_fold_reads_its_own_rows_not_its_runs(tmp_path):
    """Folding a job looks up its run's outcomes by the job's rows. Without statistics SQLite would walk
    the whole run's outcomes for each job instead: following a million-row send went quadratic."""
    connection = connect(tmp_path / "data")
    plan = [detail for _, _, _, detail in connection.execute("EXPLAIN QUERY PLAN " + STILL_SUBMITTED, (1, 1, 7))]
    connection.close()
    assert plan == ["SEARCH r USING PRIMARY KEY (job=?)", "SEARCH o USING PRIMARY KEY (run_id=? AND row=?)"]
