"""The portal's own settings (production ones, from the environment) plus one URL: the benchmarks' floor.

Nothing else differs: the floor view goes through the same middleware as every page.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
