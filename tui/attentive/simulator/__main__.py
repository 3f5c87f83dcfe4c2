"""`python -m tui.attentive.simulator [options]`: the standalone simulator without the CLI around it."""
import sys

from tui.attentive.simulator.standalone import build_parser, run

if __name__ == "__main__":  # importing this module (the layer test does) must not start a server
    sys.exit(run(build_parser().parse_args()))
