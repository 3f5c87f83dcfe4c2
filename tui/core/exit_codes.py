"""Exit codes shared by every command (documented in the README)."""
OK = 0
OVER_THRESHOLD = 1      # done, but rejections above the destination's threshold; also a failed gate or a broken ledger
USAGE = 2               # usage, config or input error
CONNECTION = 3          # connection or auth failure
HISTORY = 5             # the send history could not be written (disk full, I/O error): the send stopped at once
PENDING = 4             # waited (--wait) but bulk jobs or a read-back are still pending at the timeout
CANCELLED = 130         # stopped by the operator (SIGINT/SIGTERM, Ctrl-C in any command): 128 + SIGINT, as shells report it
