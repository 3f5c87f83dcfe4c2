"""`attentive-console segment-file DESTINATION FILE`: Attentive's subscriber segment upload.

Writes the files of a kind "segment-file" destination (headerless CSV, one identifier kind, at most
500,000 rows a file, `{client_domain}_subscriber_segment_{YYYYMMDD}_{n}.csv`, each with a `.segment`
companion holding the segment name) into a folder, prints what it wrote, and uploads them over SFTP
when the destination names an sftp_host (unless --no-upload). Exit codes: 0 written (and uploaded);
1 more invalid rows than the destination's rejection_threshold (written, not uploaded); 2 usage,
config or input error (nothing written); 3 the upload failed (connection, host key, login).
A production upload first asks for the destination's name, as `send` does; scripts pass --yes.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
from pathlib import Path
from typing import Any

from tui.cli.config_cmd import add_env_option, confirm_by_name, guarded, print_json
from tui.core.exit_codes import CONNECTION, OK, OVER_THRESHOLD, USAGE
from tui.core.segment_upload import SegmentUploadError, Uploaded, upload_segment_files
from tui.sync.segment_files import ROWS_PER_FILE, SegmentFileError, SegmentFiles, segment_settings, write_segment_files
from tui.sync.sources import SourceError
from tui.sync.terminal_text import escape_controls, escape_lines


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "segment-file", help="write (and upload) a segment-file destination's subscriber segment files",
        description="Write Attentive's subscriber segment upload files for a kind \"segment-file\" destination "
                    "and, when it names an sftp_host, upload them over SFTP (the host key checked against "
                    "known_hosts). Exit codes: 0 done, 1 invalid rows above the threshold (written, not uploaded), "
                    "2 usage/config/input error, 3 upload failure.",
    )
    parser.add_argument("destination")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="the audience: a file (.csv .tsv .jsonl .ndjson .parquet, text also .gz or one-file .zip), "
                             "a folder or a quoted glob of one export's parts, or several files as parts")
    add_env_option(parser)
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="folder for the files (default: DATA_DIR/segment-files/DESTINATION)")
    parser.add_argument("--rows-per-file", type=int, default=ROWS_PER_FILE, metavar="N",
                        help=f"rows per file, at most Attentive's {ROWS_PER_FILE:,} (the default)")
    parser.add_argument("--upload", action=argparse.BooleanOptionalAction, default=None,
                        help="upload over SFTP (default: when the destination names an sftp_host)")
    parser.add_argument("--overwrite", action="store_true", help="replace today's files already in the folder")
    parser.add_argument("--yes", action="store_true",
                        help="upload to production without typing the destination's name (for scripts and cron)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary object")
    parser.set_defaults(handler=run)


def _error(text: str, code: int = USAGE) -> int:
    print(f"error: {escape_lines(text)}", file=sys.stderr)
    return code


@guarded
def run(args: argparse.Namespace) -> int:
    target = args.ctx.target(args.env, args.destination, "segment-file")
    target.operator.require_writable("segment-file")
    destination = target.destination
    try:
        settings = segment_settings(destination)
    except SegmentFileError as err:
        return _error(str(err))
    upload = settings.sftp_host is not None if args.upload is None else args.upload
    if upload and settings.sftp_host is None:
        return _error(f"{destination.name} names no sftp_host, so there is nowhere to upload to; add sftp_host and "
                      "sftp_user under its [segment_file] table, or drop --upload")
    if upload and target.environment.name == "production":
        refused = confirm_by_name(destination.name, "upload its segment files to production", yes=args.yes)
        if refused is not None:
            return _error(f"not written: {refused}")
    folder = args.out if args.out is not None else args.ctx.data_dir / "segment-files" / destination.name
    sources = [Path(name) for name in args.files]
    try:
        written = write_segment_files(destination, sources[0] if len(sources) == 1 else sources, folder,
                                      today=datetime.date.today(), rows_per_file=args.rows_per_file,
                                      overwrite=args.overwrite)
    except (SourceError, SegmentFileError) as err:
        return _error(str(err))
    over = written.rows_read > 0 and written.invalid / written.rows_read > destination.rejection_threshold
    uploaded: Uploaded | None = None
    failure: str | None = None
    if upload and not over:
        try:
            uploaded = asyncio.run(upload_segment_files(settings, written.files, secrets_file=args.ctx.secrets_file))
        except SegmentUploadError as err:
            failure = str(err)
    code = CONNECTION if failure is not None else OVER_THRESHOLD if over else OK
    if args.json:
        print_json(_summary(args, written, uploaded, failure, code))
    else:
        _print(written, uploaded)
    if over:
        print(f"error: {written.invalid:,} of {written.rows_read:,} rows are invalid, more than the destination's "
              f"rejection_threshold ({destination.rejection_threshold:.0%}): "
              + ("not uploaded; fix the file and run again with --overwrite" if upload else "check the file"),
              file=sys.stderr)
    if failure is not None:
        _error(f"{failure}; the files stay in {folder}", CONNECTION)
    return code


def _print(written: SegmentFiles, uploaded: Uploaded | None) -> None:
    kind = "phones" if written.identifier == "phone" else "emails"
    print(escape_lines(f"wrote {len(written.files)} file(s) to {written.folder} (segment {written.segment!r}, "
                       f"{written.rows:,} {kind}):"))
    for file in written.files:
        print(escape_lines(f"  {file.path.name}  {file.rows:,} rows  (segment name in {file.segment_path.name})"))
    print(f"  rows read {written.rows_read:,}, invalid {written.invalid:,}, duplicates dropped {written.duplicates:,}")
    for invalid in written.invalid_rows:
        print(f"  row {invalid.row}: {invalid.reason}: {escape_controls(invalid.message)}")
    if written.invalid > len(written.invalid_rows):
        print(f"  ... and {written.invalid - len(written.invalid_rows):,} more invalid rows")
    if uploaded is not None:
        print(escape_lines(f"uploaded to {uploaded.host}:{uploaded.folder}: {', '.join(Path(n).name for n in uploaded.names)}"))


def _summary(args: argparse.Namespace, written: SegmentFiles, uploaded: Uploaded | None, failure: str | None,
             code: int) -> dict[str, Any]:
    return {
        "destination": args.destination, "environment": args.env, "folder": str(written.folder),
        "segment": written.segment, "identifier": written.identifier,
        "files": [{"name": f.path.name, "path": str(f.path), "rows": f.rows, "segment_file": str(f.segment_path)}
                  for f in written.files],
        "rows_read": written.rows_read, "invalid": written.invalid, "duplicates": written.duplicates,
        "invalid_rows": [{"row": i.row, "reason": i.reason, "message": i.message} for i in written.invalid_rows],
        "uploaded": None if uploaded is None else {"host": uploaded.host, "folder": uploaded.folder,
                                                   "names": list(uploaded.names)},
        "upload_error": failure, "exit_code": code,
    }
