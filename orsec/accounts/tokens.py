"""Password-reset links: one hour at most, and voided by "log out everywhere"."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.http import base36_to_int

#: A reset link is valid one hour (Django's default is three days).
RESET_LINK_SECONDS = 3600


class ResetTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "orsec.accounts.tokens.ResetTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        # The session epoch joins Django's inputs (password, last login, e-mail): bumping it
        # (log out everywhere, account disabled) voids every reset link already sent.
        return f"{super()._make_hash_value(user, timestamp)}:{user.session_epoch}"

    def check_token(self, user: Any, token: str | None) -> bool:
        if not token or not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= RESET_LINK_SECONDS


reset_token_generator = ResetTokenGenerator()
