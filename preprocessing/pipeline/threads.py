"""Work spread over the cores in threads: numpy lets go of the interpreter inside its loops (gathers,
sorts, arithmetic), so threads share the cores without copying arrays between processes. Random
gathers mostly wait on memory, and two at once take little longer than one."""
import concurrent.futures
import os


def cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_map(function, items, threads=None):
    """[function(item) for item in items], threads (None: one per core) at a time; the first error is
    raised once every call has ended."""
    with concurrent.futures.ThreadPoolExecutor(threads or cores()) as pool:
        return list(pool.map(function, items))
