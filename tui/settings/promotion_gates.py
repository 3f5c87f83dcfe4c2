"""The four promotion gates, as pure functions of evidence gathered elsewhere.

Each gate says passed or failed, why, and (when failed) what the operator should do next. The
console and the CLI render these same dataclasses.
"""
from __future__ import annotations

from dataclasses import dataclass

from tui.settings.model import Destination, Environment


@dataclass(frozen=True)
class Gate:
    id: str          # admin | test_send | verification | production_credential
    title: str
    passed: bool
    reason: str
    fix: str = ""    # what to do about a failure; empty when passed
    pending: bool = False  # not passed yet, but waiting on Attentive rather than failed

    @property
    def verdict(self) -> str:
        """PASS, PENDING or FAIL: words, so they read without colour."""
        return "PASS" if self.passed else "PENDING" if self.pending else "FAIL"


@dataclass(frozen=True)
class VerificationEvidence:
    """The read-back of a test send: profiles read back, how many differed from what was sent, and
    how many Attentive did not have at all."""
    checked: int
    mismatched: int
    missing: int = 0
    state: str = ""      # pending (differs, still retried) | matched | mismatched

    @property
    def matched(self) -> bool:
        return self.checked > 0 and self.mismatched == 0 and self.missing == 0


@dataclass(frozen=True)
class SampleSendEvidence:
    """The latest sandbox run of the destination that was a test send (`send --sample N`)."""
    run_id: int
    started_at: str
    config_hash: str
    status: str                 # as the history store records it; "finished" is the only good one
    sample_size: int
    attempted: int              # rows that reached a verdict (accepted + rejected + invalid)
    rejected: int               # rejected by Attentive plus rejected locally by validation
    verification: VerificationEvidence | None
    jobs_pending: int = 0       # bulk jobs of the run Attentive is still processing
    read_back_scheduled: bool = False  # a read-back is still to be tried (or tried again)
    sends_once: bool = False  # events or subscriptions: nothing can be read back, so the answers are the gate
    segment: bool = False       # segment members: nothing can be read back either; the jobs' results are the gate
    accepted: int = 0
    unknown: int = 0            # events sent without an answer that says whether they arrived
    unconfirmed: int = 0        # in a job that completed without results
    failed: int = 0

    @property
    def rejection_share(self) -> float:
        return self.rejected / self.attempted if self.attempted else 0.0


@dataclass(frozen=True)
class CredentialCheck:
    """Outcome of testing the production credential's connection (GET /v1/me)."""
    ok: bool
    detail: str                 # company/application on success, the reason on failure; never the key
    fix: str = ""


def gate_admin(operator: str, production: Environment) -> Gate:
    title = "operator is an admin"
    if production.access.is_admin(operator):
        return Gate("admin", title, True, f"{operator} is an admin of production")
    listed = ", ".join(production.access.admins) or "nobody"
    return Gate("admin", title, False,
                f"{operator} is not an admin of production (admins: {listed})",
                f"ask an admin to promote, or to add {operator} to [access] admins in {production.path.name}")


def _send_hint(destination: Destination) -> str:
    return f"attentive-console send {destination.name} FILE --env sandbox --sample 50"


def gate_test_send(destination: Destination, run: SampleSendEvidence | None) -> Gate:
    title = "latest sandbox test send matches and passed"
    if run is None:
        return Gate("test_send", title, False,
                    f"no finished sandbox test send of {destination.name} on record",
                    f"send a sample to the sandbox first: {_send_hint(destination)}")
    expected = destination.config_hash()
    if run.config_hash != expected:
        return Gate("test_send", title, False,
                    f"run {run.run_id} used configuration {run.config_hash[:12]}, but the definition being promoted "
                    f"is {expected[:12]}: the destination changed after its test send",
                    f"send a new sample with the current definition: {_send_hint(destination)}")
    if run.status == "awaiting_results":
        return Gate("test_send", title, False,
                    f"run {run.run_id}: results pending ({run.jobs_pending} bulk jobs processing at Attentive)",
                    f"wait for them: attentive-console jobs --run {run.run_id} --wait (or keep the console open)",
                    pending=True)
    if run.status != "finished":
        return Gate("test_send", title, False,
                    f"run {run.run_id} did not finish (status: {run.status})",
                    f"resume it (attentive-console send {destination.name} FILE --resume {run.run_id}) "
                    f"or send a new sample: {_send_hint(destination)}")
    share, limit = run.rejection_share, destination.rejection_threshold
    if share > limit:
        return Gate("test_send", title, False,
                    f"run {run.run_id} rejected {run.rejected} of {run.attempted} rows ({share:.1%}), "
                    f"above the destination's threshold of {limit:.1%}",
                    f"review the rejections (attentive-console rejections {run.run_id}), fix the data or the "
                    "mapping, and send a new sample")
    return Gate("test_send", title, True,
                f"run {run.run_id} ({run.started_at[:19]}Z, sample of {run.sample_size}) used this configuration, "
                f"finished, and rejected {run.rejected} of {run.attempted} ({share:.1%} <= {limit:.1%})")


def gate_verification(run: SampleSendEvidence | None) -> Gate:
    title = "read-back verification matched"
    if run is None:
        return Gate("verification", title, False, "no test send, so nothing was read back",
                    "send a sample to the sandbox first; its read-back is verified with it")
    if run.sends_once:
        return _events_answered(run)
    if run.segment:
        return _members_answered(run)
    check = run.verification
    follow = f"attentive-console jobs --run {run.run_id} --wait"
    if run.jobs_pending:
        return Gate("verification", title, False,
                    f"verification pending ({run.jobs_pending} jobs processing)",
                    f"the read-back runs once they complete: {follow}", pending=True)
    if run.read_back_scheduled and (check is None or check.state == "pending"):
        tried = "" if check is None else f": {check.mismatched + check.missing} of {check.checked} differ for now"
        return Gate("verification", title, False, f"verification pending (read-back retried until it matches{tried})",
                    f"Attentive may take up to 24 hours to show changes; {follow} retries it", pending=True)
    if check is None:
        return Gate("verification", title, False, f"run {run.run_id} has no read-back verification recorded",
                    f"verify it: attentive-console verify {run.run_id}")
    if check.checked == 0:
        return Gate("verification", title, False, f"run {run.run_id}'s read-back checked no profiles",
                    "send a sample whose rows are accepted, then verify it")
    if not check.matched:
        problems = [f"{check.mismatched} differ from what was sent"] if check.mismatched else []
        problems += [f"{check.missing} were not found"] if check.missing else []
        return Gate("verification", title, False,
                    f"of {check.checked} profiles read back from run {run.run_id}, {' and '.join(problems)}",
                    f"see which ones: attentive-console verify {run.run_id}")
    return Gate("verification", title, True,
                f"all {check.checked} profiles read back from run {run.run_id} match what was sent")


def _events_answered(run: SampleSendEvidence) -> Gate:
    """Attentive has no read-back for events: the sample's events must be accepted, none unknown."""
    problem = None
    if run.unknown:
        problem = (f"{run.unknown} of run {run.run_id}'s events are unknown (no answer said whether they arrived)",
                   f"check them in Attentive (attentive-console rejections {run.run_id} --reason event_unknown), "
                   "then send a new sample")
    return _answered(run, "sample events accepted, none unknown", "event", problem, "not sent before",
                     f"all {run.accepted} events Attentive answered for run {run.run_id} were accepted (events have "
                     "no read-back)")


def _members_answered(run: SampleSendEvidence) -> Gate:
    """No endpoint lists a segment's members: every sample member's job result must say accepted."""
    title = "sample members accepted in Attentive's job results"
    if run.jobs_pending:
        return Gate("verification", title, False, f"results pending ({run.jobs_pending} jobs processing)",
                    f"wait for them: attentive-console jobs --run {run.run_id} --wait", pending=True)
    problems = [f"{run.failed} failed"] if run.failed else []
    problems += [f"{run.unconfirmed} unconfirmed (a job completed without results)"] if run.unconfirmed else []
    problem = (f"of run {run.run_id}'s members, {' and '.join(problems)}",
               f"see them (attentive-console rejections {run.run_id}), then send a new sample") if problems else None
    return _answered(run, title, "member", problem, "not members already",
                     f"all {run.accepted} members of run {run.run_id} were accepted in Attentive's job results (a "
                     "segment's members cannot be read back)")


def _answered(run: SampleSendEvidence, title: str, what: str, problem: tuple[str, str] | None, fresh: str,
              passed: str) -> Gate:
    """The gate of a test send judged by Attentive's answers: `problem` (reason, fix) fails it, and so
    does a sample of which Attentive accepted nothing."""
    if problem is not None:
        return Gate("verification", title, False, *problem)
    if run.accepted == 0:
        return Gate("verification", title, False, f"run {run.run_id} had no {what} accepted by Attentive",
                    f"send a sample whose rows are valid and {fresh}")
    return Gate("verification", title, True, passed)


def gate_production_credential(destination: Destination, production: Environment,
                               check: CredentialCheck | None) -> Gate:
    """`check` is None when production has no credential of the destination's name (nothing to test)."""
    title = "production credential exists and connects"
    name = destination.credential
    if name not in production.credentials:
        available = sorted(production.credentials)
        fix = f"add it: attentive-console credentials add {name} --env production"
        if available:
            fix += f"; or promote with one production has: --credential {available[0]}"
        return Gate("production_credential", title, False,
                    f"production has no credential named {name!r} (it has: {', '.join(available) or 'none'})", fix)
    if check is None or not check.ok:
        detail = check.detail if check else "the connection was not tested"
        fix = (check.fix if check and check.fix else
               f"check it: attentive-console credentials test {name} --env production")
        return Gate("production_credential", title, False,
                    f"production credential {name!r} failed its connection test: {detail}", fix)
    return Gate("production_credential", title, True, f"production credential {name!r}: {check.detail}")
