#!/usr/bin/env python3
"""Run a command and require an exact exit status.

usage: exits.py [--timeout SECONDS] CODE COMMAND [ARGS...]

The command's stdout and stderr pass through unchanged. Afterwards, if the command
exited with CODE, exits.py exits 0; otherwise it prints one line

    exits.py: COMMAND exited with N (expected CODE)          or
    exits.py: COMMAND was killed by signal S (expected exit CODE)      or
    exits.py: COMMAND timed out after T s (expected exit CODE)

to stderr and exits 1, so that a RUN line fails on crashes, hangs and wrong exit
codes (lit's `not` accepts any non-zero status).
"""
import os
import signal
import subprocess
import sys


def main(argv):
    timeout = 120.0
    if len(argv) >= 2 and argv[0] == "--timeout":
        timeout = float(argv[1])
        argv = argv[2:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    expected = int(argv[0])
    cmd = argv[1:]
    name = os.path.basename(cmd[0])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        proc = subprocess.run(cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"exits.py: {name} timed out after {timeout:g} s (expected exit {expected})",
              file=sys.stderr)
        return 1
    rc = proc.returncode
    if rc == expected:
        return 0
    if rc < 0:
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = str(-rc)
        print(f"exits.py: {name} was killed by signal {sig} (expected exit {expected})",
              file=sys.stderr)
    else:
        print(f"exits.py: {name} exited with {rc} (expected {expected})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
