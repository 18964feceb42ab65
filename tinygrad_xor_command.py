"""The `tinygrad-xor` command's first lines: outside the package, so that they run first.

Loading tinygrad_xor takes a few hundred milliseconds, and a Ctrl-C in them would end in a
KeyboardInterrupt traceback from whichever import it hit. So SIGINT is held (blocked) from
here until cli.main's handler is in place, which lets it through: a Ctrl-C at any moment
of start-up ends the command as any other Ctrl-C does, with one line and exit status 130.
"""

import signal
import sys


def main() -> int:
    """Run the command with sys.argv; return its exit status."""
    _hold_ctrl_c()
    from tinygrad_xor.cli import main as run

    status = run()
    _hold_ctrl_c()  # the run is over: a Ctrl-C now changes nothing
    return status


def _hold_ctrl_c() -> None:
    if sys.platform != "win32":  # Windows has no signal masks
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
