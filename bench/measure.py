"""Runs a command in a fresh process and measures it from outside: wall seconds, CPU seconds, the
process's own peak resident memory (getrusage) and the peak of the summed anonymous resident memory
of it and its children (item2vec trains in a process of its own), sampled from /proc every 20 ms.
Anonymous memory is what the processes need: the pages of a memory-mapped .npy file also count as
resident while mapped, but they are the file's cache, which the system drops when memory runs short."""
import dataclasses
import os
import subprocess
import threading
import time

SAMPLE_SECONDS = 0.02


@dataclasses.dataclass
class Measured:
    seconds: float
    cpu_seconds: float
    peak: int  # bytes, the process itself
    peak_tree: int  # bytes of anonymous memory, the process and its descendants together (sampled)
    output: str


def _anonymous_bytes(status):
    """RssAnon of a /proc/<pid>/status text, in bytes (0 for a kernel thread, which has none)."""
    for line in status.splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_rss(root):
    """Summed anonymous resident bytes of process root and its descendants, from /proc."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/status") as file:
                status = file.read()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = _anonymous_bytes(status)
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += rss.get(pid, 0)
        frontier.extend(child for child, parent in parents.items() if parent == pid)
    return total


def run_measured(argv, cwd):
    """Measured of the command argv run in cwd; SystemExit with its output when it fails."""
    began = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, text=True)
    peak_tree = 0
    finished = threading.Event()

    def sample():
        nonlocal peak_tree
        while not finished.is_set():
            peak_tree = max(peak_tree, tree_rss(child.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    finished.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(argv)} failed with exit status {code}:\n{output}")
    return Measured(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, peak_tree, output)
