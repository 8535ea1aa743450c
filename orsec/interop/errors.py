"""Result and error types shared by every standard.

Two families of failures, which the command line and the inbox map to different answers:

* ``RefusedInput``: the input is refused for security before it is interpreted (DOCTYPE,
  entity, XInclude, oversize, too deep, unsupported encoding). Exit status 2.
* ``InvalidMessage``: the input is not a well-formed or valid message (syntax, schema,
  semantic rule of the standard). Exit status 1.

Every error carries a stable ``code`` (for programs), a French ``message`` (for people) and
the ``path`` of the faulty element (XPath-like for XML, JSON pointer-like for JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

VerdictName = Literal["valid", "invalid", "refused"]


@dataclass(frozen=True)
class ValidationError:
    """One reason a message is invalid or refused."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    """The outcome of validating one message against one standard."""

    standard: str
    verdict: VerdictName
    errors: list[ValidationError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.verdict == "valid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "verdict": self.verdict,
            "errors": [error.as_dict() for error in self.errors],
        }


class InteropError(Exception):
    """Base class of every error the interop parsers and validators raise."""

    verdict: VerdictName = "invalid"

    def __init__(self, code: str, message: str, path: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path

    def as_error(self) -> ValidationError:
        return ValidationError(path=self.path, code=self.code, message=self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, {self.path!r})"


class RefusedInput(InteropError):
    """Refused for security before interpretation (DOCTYPE, entity, oversize, depth…)."""

    verdict: VerdictName = "refused"


class InvalidMessage(InteropError):
    """Malformed, or not conforming to the schema or the semantic rules of the standard."""

    verdict: VerdictName = "invalid"
