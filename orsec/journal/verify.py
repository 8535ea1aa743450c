"""Verification of a main courante as a plain result for pages, the API and the command."""

from __future__ import annotations

from typing import Any

from orsec.journal.chain import verify_chain
from orsec.journal.models import JournalChain


def verify_chain_report(chain: JournalChain) -> dict[str, Any]:
    """``{"ok": bool, "checked": n, "problem": {"seq": n|None, "reason": "…"} | None}``.

    The reason names the entry number only, never its content: safe for every reader of the
    event, restricted entries included.
    """
    checked, problem = verify_chain(chain)
    return {
        "ok": problem is None,
        "checked": checked,
        "problem": None if problem is None else {"seq": problem.seq, "reason": problem.reason},
    }
