"""CAP parse + two-step validation rate vs raw lxml parse of the same files, in the same run.

    .venv/bin/python bench/interop.py [--seconds 3] [--rounds 5] [--json FILE]

The files are the valid CAP fixtures (``orsec/interop/tests/fixtures/cap/valid`` and the
MeteoAlarm details). The baseline is ``lxml.etree.fromstring`` with a default parser (no
security checks, no schema, no rules); the measured path is
:func:`orsec.interop.cap.validate.validate_cap` (secure parse with the prolog scan and depth
count, official XSD, then the CAP spec rules). Each side runs ``--rounds`` interleaved rounds of
``--seconds / --rounds`` and keeps its best rate. Goal: ratio ≥ 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py would shadow the standard library's http package: run from the root instead.
sys.path[0] = str(ROOT)
FIXTURES = ROOT / "orsec" / "interop" / "tests" / "fixtures"


def _setup() -> None:
    import django
    from django.conf import settings

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(USE_I18N=True, LANGUAGE_CODE="fr", INSTALLED_APPS=[])
    django.setup()


def _rate(function, samples: list[bytes], seconds: float) -> float:  # type: ignore[no-untyped-def]
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for data in samples:
            function(data)
        done += len(samples)
    return done / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measure")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (best kept)")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args()
    _setup()
    from lxml import etree

    from orsec.interop.cap.validate import validate_cap

    paths = sorted((FIXTURES / "cap" / "valid").glob("*.cap")) + sorted(
        (FIXTURES / "meteoalarm").glob("*_detail.xml")
    )
    samples = [path.read_bytes() for path in paths]
    for data in samples:  # warm the schema cache, check the samples are valid
        assert validate_cap(data).is_valid
    # The machine may be shared: measure in interleaved rounds and keep each side's best round,
    # so a burst of load on one side does not decide the ratio.
    raw = validated = 0.0
    for _round in range(args.rounds):
        raw = max(raw, _rate(etree.fromstring, samples, args.seconds / args.rounds))
        validated = max(validated, _rate(validate_cap, samples, args.seconds / args.rounds))
    ratio = validated / raw
    result = {
        "files": len(samples),
        "bytes": sum(len(data) for data in samples),
        "raw_lxml_parse_per_s": round(raw, 1),
        "cap_parse_and_validate_per_s": round(validated, 1),
        "rounds": args.rounds,
        "ratio": round(ratio, 3),
        "goal": 0.5,
        "goal_met": ratio >= 0.5,
    }
    print(f"fichiers CAP : {len(samples)} ({result['bytes']} octets)")
    print(f"analyse lxml brute           : {raw:10.1f} messages/s")
    print(f"analyse sûre + XSD + règles   : {validated:10.1f} messages/s")
    print(f"ratio : {ratio:.3f} (objectif ≥ 0,5 : {'atteint' if ratio >= 0.5 else 'NON atteint'})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
