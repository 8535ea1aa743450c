"""Password validators of the portal (S14), referenced by ``AUTH_PASSWORD_VALIDATORS``.

* :class:`RoleAwareMinimumLengthValidator`: at least 12 characters, 16 for administrators
  (staff, superuser or an active ``administrator`` membership); the only maximum is a generous
  4096 characters that bounds the work of the hasher — far above 64 (ANSSI, ASVS).
* :class:`ContextWordsValidator`: refuses a password built on words an attacker would try
  first against this portal — ORSEC, SDIS, préfecture, COD, intérieur…, the username, the first
  and last names and the short names of the user's organisations — after folding case, accents
  and common character substitutions (``0rs3c`` is ``orsec``).

Django's ``CommonPasswordValidator`` and ``UserAttributeSimilarityValidator`` complete the list.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orsec.accounts.models import Role

#: Upper bound accepted everywhere a password is typed (forms, validators).
PASSWORD_MAX_LENGTH = 4096

#: Words tied to the portal's context (already folded: lower case, no accent).
PORTAL_WORDS = (
    "orsec",
    "sdis",
    "prefecture",
    "prefet",
    "cod",
    "interieur",
    "securitecivile",
    "cogic",
    "sidpc",
)

#: Shorter words are only refused as whole words (``cod`` in ``COD37`` but not in ``code``).
_SUBSTRING_MIN_LENGTH = 4
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "€": "e",
    }
)


def is_administrator(user: Any) -> bool:
    if user is None:
        return False
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return True
    if getattr(user, "pk", None) is None:
        return False
    return bool(user.memberships.filter(is_active=True, role=Role.ADMINISTRATOR).exists())


class RoleAwareMinimumLengthValidator:
    """At least ``user_min_length`` characters, ``admin_min_length`` for administrators."""

    def __init__(
        self,
        user_min_length: int = 12,
        admin_min_length: int = 16,
        max_length: int = PASSWORD_MAX_LENGTH,
    ) -> None:
        self.user_min_length = user_min_length
        self.admin_min_length = admin_min_length
        self.max_length = max_length

    def _min_for(self, user: Any) -> int:
        return self.admin_min_length if is_administrator(user) else self.user_min_length

    def validate(self, password: str, user: Any = None) -> None:
        minimum = self._min_for(user)
        if len(password) < minimum:
            raise ValidationError(
                ngettext(
                    "Ce mot de passe est trop court : il doit contenir au moins %(min)d caractère.",
                    "Ce mot de passe est trop court : il doit contenir au moins %(min)d "
                    "caractères.",
                    minimum,
                )
                % {"min": minimum},
                code="password_too_short",
                params={"min_length": minimum},
            )
        if len(password) > self.max_length:
            raise ValidationError(
                _("Ce mot de passe est trop long : au plus %(max)d caractères.")
                % {"max": self.max_length},
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _(
            "Au moins %(user)d caractères (%(admin)d pour les administrateurs). Une phrase de "
            "passe de plusieurs mots est recommandée."
        ) % {"user": self.user_min_length, "admin": self.admin_min_length}


def fold(text: str) -> str:
    """Lower case, accents removed (``Préfecture`` → ``prefecture``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _words_from(value: str) -> set[str]:
    """A value as whole (``operateur.cod37`` → ``operateurcod37``) and as its parts."""
    folded = fold(value)
    words = {_alnum(folded)}
    words.update(part for part in re.split(r"[^0-9a-z]+", folded) if part)
    return {w for w in words if len(w) >= 3}


def context_words(user: Any) -> set[str]:
    """Every word refused in this user's password."""
    words = set(PORTAL_WORDS)
    if user is None:
        return words
    for attribute in ("username", "first_name", "last_name"):
        value = getattr(user, attribute, "") or ""
        words.update(_words_from(value))
    email = getattr(user, "email", "") or ""
    if "@" in email:
        words.update(_words_from(email.split("@", 1)[0]))
    if getattr(user, "pk", None) is not None:
        short_names = user.memberships.filter(is_active=True).values_list(
            "organisation__short_name", flat=True
        )
        for short_name in short_names:
            words.update(_words_from(short_name or ""))
    return words


def _contains(haystack: str, word: str) -> bool:
    if len(word) >= _SUBSTRING_MIN_LENGTH:
        return word in haystack
    # A short word counts only when not glued to other letters (digits may follow: "cod37").
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", haystack) is not None


def find_context_word(password: str, words: set[str]) -> str | None:
    folded = fold(password)
    variants = {folded, folded.translate(_LEET)}
    joined = {_alnum(v) for v in variants}
    for word in sorted(words, key=lambda w: (-len(w), w)):
        leet_word = word.translate(_LEET)
        if any(_contains(v, word) or _contains(v, leet_word) for v in variants):
            return word
        if len(word) >= _SUBSTRING_MIN_LENGTH and any(word in j for j in joined):
            return word
    return None


class ContextWordsValidator:
    """Refuse passwords containing a context word (portal, user, organisation)."""

    def validate(self, password: str, user: Any = None) -> None:
        if find_context_word(password, context_words(user)) is not None:
            # The word itself is not repeated: the message may be shown to someone else's screen.
            raise ValidationError(
                _(
                    "Ce mot de passe contient un mot trop facile à deviner dans ce contexte "
                    "(nom du portail ou d'un service, identifiant, nom ou prénom, sigle de "
                    "votre organisation)."
                ),
                code="password_context_word",
            )

    def get_help_text(self) -> str:
        return _(
            "Le mot de passe ne doit contenir ni le nom du portail ou d'un service (ORSEC, SDIS, "
            "préfecture, COD…), ni votre identifiant, nom ou prénom, ni le sigle de votre "
            "organisation."
        )
