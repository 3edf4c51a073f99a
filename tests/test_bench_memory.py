"""restorer bench's peak-memory reading follows what the process really held."""

import subprocess
import sys

SCRIPT = """
import numpy as np
from restorer.bench import _peak_rss_gb
before = _peak_rss_gb()
block = np.ones(int(0.4e9 / 8))  # touched, so resident
print(before, _peak_rss_gb(), block[-1])
"""


def test_peak_memory_reading_rises_with_a_large_allocation():
    # A fresh process, so the peak so far is only the interpreter's, whatever ran before in this one.
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    before, after, last = (float(v) for v in out.stdout.split())
    assert last == 1.0
    assert after >= before + 0.3  # of the 0.4 GB block (the interpreter may have let some pages go)
