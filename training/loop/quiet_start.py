"""TensorFlow's C++ start-up lines (absl, oneDNN, cuda stub) say nothing about a run, and they print
while `import tensorflow` runs, before any log setting can act on them: TensorFlow is imported here
with the process's stderr caught, and every other line is passed on."""
import os
import re
import sys
import tempfile

CHATTER = re.compile(r"absl::InitializeLog|^[IW]0000 ")


def import_tensorflow_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the lines TensorFlow prints later
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode(errors="replace").splitlines(keepends=True):
                if not CHATTER.search(line):
                    sys.stderr.write(line)
