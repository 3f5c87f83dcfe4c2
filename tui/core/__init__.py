"""The headless layer: every operation that changes or reads state, for both front ends.

The CLI and the console parse or draw, call a function here with a Workspace, and show what it
returns. Access checks, PII masking, rate caps, audit entries and exit codes are decided here once,
so the two front ends cannot disagree. Nothing here imports the CLI or Textual.
"""
