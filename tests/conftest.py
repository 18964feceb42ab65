"""Test-suite settings: hypothesis profiles.

`CI=true` (set by .ci/run) loads the "ci" profile: at least 500 examples per
property, derandomized so a CI failure reproduces. Locally the "dev" profile
keeps `make test` quick; `HYPOTHESIS_PROFILE=ci make test` runs the CI amount.
"""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=500, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)

_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if _ci else "dev"))
