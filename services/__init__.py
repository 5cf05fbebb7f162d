"""Kring: the services of a federation of learning networks."""

import warnings

# nameko needs eventlet, which warns that it is deprecated on import; running nameko on it is a
# deliberate choice (see docs/decisions/0001-nameko-under-eventlet-edges-outside-it.md),
# so the warning is noise in every log and test run.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
