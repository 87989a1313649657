"""make bench: performance figures as JSON lines, each against a baseline measured in the same run."""

import sys
from pathlib import Path

# The layer's package, as Lambda mounts it (the measured processes also get it on PYTHONPATH).
LAYER_DIR = str(Path(__file__).resolve().parents[1] / "layers" / "contact_jobs")
if LAYER_DIR not in sys.path:
    sys.path.insert(0, LAYER_DIR)
