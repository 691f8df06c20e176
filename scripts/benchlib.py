"""What the benchmark scripts (`scripts/bench`, `scripts/bench-lab`) share: timed runs."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Seconds to wait before each timed run (`scripts/bench --pause`).
PAUSE = 0.0


def run_measured(cmd, env=None, capture=False):
    """Runs cmd after PAUSE: wall s, CPU s (user + system) and peak RSS MiB of that process
    alone (wait4), and its stdout as `out` when `capture`. Exit codes 0 and 1 (a failing gate)
    are runs; anything else stops the bench with the command's stderr."""
    time.sleep(PAUSE)
    # Files, not pipes: a full pipe would block the child while we wait for it.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out if capture else subprocess.DEVNULL, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err.seek(0)
            sys.exit(f"bench: {cmd[0]} exited {code}:\n{err.read().decode()}")
        row = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024}
        if capture:
            out.seek(0)
            row["out"] = out.read().decode()
        return row


def median(rows, key):
    return statistics.median(r[key] for r in rows)
