#!/usr/bin/env python3
"""usage: memlimit.py MIB COMMAND [ARGS...]

Run COMMAND with its address space limited to MIB MiB (RLIMIT_AS), so a test of a
network too large for memory cannot take the machine's memory if mlcnc tries anyway."""
import os
import resource
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
limit = int(sys.argv[1]) << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
os.execvp(sys.argv[2], sys.argv[2:])
