"""`attentive-console history check`: is the history database sound, and its audit ledger whole?

SQLite's integrity check over the whole file, then the ledger's hash chain against the head
recorded beside it (history.head). Exit 0 when both hold, 1 when something is wrong (with what to
do), 2 when the file cannot be opened at all.
"""
from __future__ import annotations

import argparse
import sqlite3
from contextlib import closing

from tui.cli.config_cmd import guarded, print_json
from tui.core.exit_codes import OK, OVER_THRESHOLD
from tui.settings.history_head import refuse_lost_history
from tui.settings.ledger import Ledger
from tui.settings.paths import history_path

RESTORE = ("stop every attentive-console process (console, cron, jobs --wait), then restore {name} from a "
           "backup; to save what is still readable first: sqlite3 {path} .recover > recovered.sql")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("history", help="check the history database and its audit ledger")
    actions = parser.add_subparsers(dest="history_action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="SQLite's integrity check and the ledger's hash chain")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=run_check)


@guarded
def run_check(args: argparse.Namespace) -> int:
    path = history_path(args.ctx.data_dir)
    refuse_lost_history(path)  # a missing or emptied file that held entries: HistoryDamaged, exit 2
    problems: list[str] = []
    unfinished: list[str] = []   # sound entries, an interrupted promotion: its own fix, not a restore
    checked = 0
    try:
        if path.exists():
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
                found = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if found != ["ok"]:
                problems += [f"integrity: {line}" for line in found[:20]]
        ledger = Ledger(path).verify()
        checked = ledger.checked
        if ledger.broken is not None:
            where = f" at entry {ledger.broken.seq}" if ledger.broken.seq is not None else ""
            problems.append(f"ledger{where}: {ledger.broken.reason}")
        unfinished = [f"ledger: {item.reason}; fix: {item.fix}" for item in ledger.unfinished]
    except sqlite3.DatabaseError as exc:
        problems.append(f"the file cannot be read as a SQLite database: {exc}")
    fix = RESTORE.format(name=path.name, path=path) if problems else ""
    problems += unfinished
    if args.json:
        print_json({"path": str(path), "ok": not problems, "problems": problems, "ledger_entries": checked,
                    "fix": fix})
    elif problems:
        print(f"{path}: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        if fix:
            print(f"  fix: {fix}")
    else:
        state = "no history yet" if not path.exists() else f"integrity ok, ledger ok ({checked} entries)"
        print(f"{path}: {state}")
    return OVER_THRESHOLD if problems else OK
