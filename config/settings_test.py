"""Settings for the test suite: production settings with test-only speed-ups.

The environment defaults below stand for what an operator would set; everything else (CSP,
cookies, HSTS, validators, MFA) is the production configuration under test.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("ORSEC_HTTPS_REDIRECT", "false")
os.environ.setdefault("ORSEC_VAR_DIR", os.path.join(tempfile.gettempdir(), "orsec-test-var"))
os.environ.setdefault("ORSEC_ANONYMOUS_MIN_RESPONSE_MS", "0")

from config.settings import *  # noqa: F403
from config.settings import STORAGES

os.makedirs(os.environ["ORSEC_VAR_DIR"], exist_ok=True)  # a fresh machine has none

# Argon2id stays the hasher (its tests check the stored prefix) but with test-sized costs.
PASSWORD_HASHERS = ["orsec.accounts.hashers.TestArgon2PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
