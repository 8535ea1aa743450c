"""The CAP importer listed in ``orsec.interop.importing.IMPORTERS`` (CAP 1.2 and 1.1).

It lives in ``alerts`` (above ``interop`` in the import layers) because it routes by profile:

* a **MeteoAlarm-profile** alert (an ``<info>`` carries the ``awareness_level`` and
  ``awareness_type`` parameters) goes to the vigilances, :func:`orsec.alerts.actions.
  do_import_meteoalarm` (Update chains, AllClear and Cancel are handled there);
* any other alert goes to the plain CAP importer of interop,
  :func:`orsec.interop.cap.importer.import_cap_alert` (a journal entry on the event or on the
  watch logs of the départements its areas designate).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from orsec.alerts.actions import do_import_meteoalarm
from orsec.interop.cap.importer import import_cap_alert
from orsec.interop.cap.parse import CapAlert
from orsec.interop.cap.validate import read_valid_cap
from orsec.interop.errors import InvalidMessage
from orsec.interop.importing import ImportContext, ImportOutcome

PROFILE_PARAMETERS = frozenset({"awareness_level", "awareness_type"})


def is_meteoalarm(alert: CapAlert) -> bool:
    """True when an ``<info>`` carries both MeteoAlarm awareness parameters."""
    return any(
        {name.strip().lower() for name, _value in info.parameters} >= PROFILE_PARAMETERS
        for info in alert.infos
    )


def import_cap(data: bytes, context: ImportContext) -> ImportOutcome:
    verdict, alert = read_valid_cap(data)
    if alert is None:
        error = verdict.errors[0] if verdict.errors else None
        raise InvalidMessage(
            error.code if error else "cap_invalid",
            error.message if error else _("Alerte CAP invalide."),
            error.path if error else "/alert",
        )
    if not is_meteoalarm(alert):
        return import_cap_alert(alert, context)
    result = do_import_meteoalarm(data, source="interop")
    if not result.accepted:
        error = result.verdict.errors[0]
        raise InvalidMessage(error.code, error.message, error.path)
    standard = f"CAP {alert.version}"
    if result.duplicate:
        return ImportOutcome(
            standard=standard,
            summary=_("Alerte MeteoAlarm « %(id)s » déjà importée : rien n'a été réécrit.")
            % {"id": alert.identifier},
            replay=True,
        )
    return ImportOutcome(
        standard=standard,
        summary=_(
            "Vigilances MeteoAlarm : %(created)s créée(s), %(updated)s mise(s) à jour, "
            "%(ended)s terminée(s)."
        )
        % {
            "created": len(result.created),
            "updated": len(result.updated),
            "ended": len(result.ended),
        },
        entry_ids=list(result.entries),
    )
