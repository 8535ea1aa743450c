"""Password hashers. Production uses Django's Argon2id hasher with its default costs."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class TestArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with tiny costs, for the test suite only (config/settings_test.py)."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1
