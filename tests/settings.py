"""Settings for the test suite: PostgreSQL and Redis, as in production.

Override the services with DATABASE_URL, REDIS_URL and CELERY_BROKER_URL.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-django-checks-0123456789")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "yxZAPCdty0nnVudb8NgbEylFas68VAwFrP18BC1KAiI=")  # test only
# Test only: the RSA key that signs ID tokens in tests.
os.environ.setdefault("IDP_OIDC_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC6KJO3Jf36+vYb\nGzleENrrH0G4OHgHBqXnoIkogY93TQeHOKOaWQ9Nfz68gxHXyGhqyZrxpCVRIHEL\nxPtxBUB2SMAoSDSrTbkfHw2B1VlgGnuCxFsdf9fImYK29llgOlvEcuiDfucgqmfT\nrc7apEbz8sXs8sRFuN5es2tbBPmz0Eg4GuzByr2Y11zNTnJ3hlDTGJsBuJ5IBqQy\nSem0Z34nvDH5G2/1Y0GEPXVLeds5l4F+9fcWH/0uNiv5x6sDh+gbCAlGYR7DXnXr\nW3Zbr3L3hUiXcrmFrx6KQpTi5qQxykzvsQgC0vuqyBYg9/6F7Cg64FEw3lEzsTtF\n0mFeNHfxAgMBAAECggEAHIll2M3eeN/fDtlbL5vz2IEqc5FXIknsRW1AOVELFhBd\nLBG2+qKBDFyKLcmwgtyPgnc0j6ry/Cm19UY//oZTPblPQ52LUrXlFUE5soJrDfwL\n8kgkE4nqdoTEcJmjqnL9EvNDyLc7ulqE9K0QfZxwiAAvmRq/Pao7jwGACSw3vvmB\neoMPXSKNk5r8agHaPOxy+wogm1HPPCjvsGozPOqL++0xfxt3Hn9peFeIutn70heE\nMIG4YtgY1PuLIo5K970tbZLTc5o0u7040o9OJGR3pQD8OxTQEQjY2bUSy/iNCVfp\nSALp1moB5X2XwTixE87wwHNfCLQqO69VJIF/UxXYFQKBgQDbEDh8rafdf089P+7b\nmFWGySBCO4gcOarOLWecCWKLMZJTNdzz1JhOlwe3ORs8MRzkQsvWqcGbgSqKpGrS\nlLcaQ/WPrKRB2bs1rqkPWxAgBtFJYUKChbW+4Y8bZgrxtmiP6JTG/l/vcrIAaXD9\nQBmveMHjB6ZHxTa+cDqxcW+QGwKBgQDZjAgjIp7ejL8nvZhsv1Zv3OgkCmk3eKO3\nRTqMNMwRQ7exG75qV7fhek2kh26zPzJzYEiDKPCN3jukx4t4997qs1TfLXcaEhh8\ny9WKgafkujTpnBtBpZEAqkqYVjOkxn7QePM/t8uSkpgYjNVwcjg/0CxbSRVOe6E1\nJAsonjIQ4wKBgE/fByl2S4k3/NUxNU69qRlexbNAb20THZLU/TzoMxTbOyW5stj4\nP5wP9xE38hUtNwKG1DltZZjkLHWmYwhqjqQ1+Resc6tKzrZQ+3UM18FFmxMtMgnS\n5KQ3K21q9DyTLGaj/3LalnIAmKQLzdWYhIT0+4Riap8qab5fvxapbGrXAoGAGNwA\nngs5vlK1EVSAE4U12miS+nNaHKWjh7DYhOcPnrVvS0TRWJOXhqOUNcXoJ4GEQVzy\nTFKkUoHfrO/Eh1lD1uwROcOXRZplw/UC/OXeCqwgmcVl8/V4gWv0RD4tfpnUKfx4\nR4K4N5Ka4MtPJJ9YwCoIt5G9Zo+IF2t7/vM842MCgYBoRxM6BEXsNewvvtble8rE\nVKCVcvsjMxhwQCOEbZKQzr7URzMrZ3AHTp09mUZDr5LxPdwHlYqEkmVRDP0iMlkm\n4n2yjoN7WBqbV2uZ6fxLh6Ct84MeRWyPO0OKbNPO/HWDnMnA1wSCP+ACwJzvRwBo\n2bC7jO0SRQ6eqvKfnPDADg==\n-----END PRIVATE KEY-----\n")  # noqa: E501  # fmt: skip
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from portal.settings import *  # noqa: F403
from portal.settings import CACHES, DATABASES, STORAGES

# Tests close every connection they open, so the test database can be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0
CACHES["default"]["KEY_PREFIX"] = "portal-test"
# Hashing passwords at full strength makes every login in a test slow, and tells nothing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The manifest is built by collectstatic, which tests do not run.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
WORKER_PING_TIMEOUT = 10
STATIC_ROOT = None  # type: ignore[assignment]  # served from the finders; nothing is collected in tests
