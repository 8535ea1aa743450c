"""Load the bundled territorial reference data (``orsec/territories/data/``) into ``Territory``.

Levels are written top-down (national → zones → régions → départements and collectivités
d'outre-mer → communes → arrondissements municipaux) so that each level knows its parents' ids.
Every level is an upsert on ``(kind, code)`` (``bulk_create(update_conflicts=True)``, in batches),
all inside one transaction; rows already identical in the database are left alone.
A SHA-256 digest of the data files (and of :data:`LOADER_VERSION`) is stored in
``ReferenceDataset(name="territories")``: when it has not changed, loading is a no-op.

Rows that are no longer in the data (a commune merged into another in a later COG) are neither
deleted nor modified: other records may point at them (``on_delete=PROTECT``). They are counted in
:attr:`LoadResult.stale` so that an operator can deal with them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.territories.models import ReferenceDataset, Territory, TerritoryKind
from orsec.territories.queries import clear_geometry_cache
from orsec.territories.sources import (
    COORD_DECIMALS,
    DATA_DIR,
    DATA_FILES,
    DATASET_NAME,
    NATIONAL_CODE,
    NATIONAL_NAME,
    TerritoryDataError,
    _commune_fields,
    _Dataset,
    _dissolve,
    _geometry_fields,
    _read_dataset,
    dataset_digest,
)

__all__ = [
    "DATA_DIR",
    "DATA_FILES",
    "KIND_ORDER",
    "LoadResult",
    "TerritoryDataError",
    "dataset_digest",
    "format_number",
    "load_reference_territories",
]

BATCH_SIZE = 1000

#: Fields written by the upsert (everything except the primary key and the conflict key).
UPDATE_FIELDS: tuple[str, ...] = (
    "name",
    "parent",
    "path",
    "nuts3",
    "emma_id",
    "population",
    "seat",
    "centroid_lat",
    "centroid_lon",
    "bbox_min_lon",
    "bbox_min_lat",
    "bbox_max_lon",
    "bbox_max_lat",
    "boundary",
)

#: Order used for reporting counts.
KIND_ORDER: tuple[TerritoryKind, ...] = (
    TerritoryKind.NATIONAL,
    TerritoryKind.ZONE,
    TerritoryKind.REGION,
    TerritoryKind.DEPARTEMENT,
    TerritoryKind.COLLECTIVITE,
    TerritoryKind.COMMUNE,
    TerritoryKind.ARRONDISSEMENT,
)


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`load_reference_territories`."""

    #: True when the stored digest matched and nothing was written.
    skipped: bool
    digest: str
    #: Rows in the dataset per kind (``TerritoryKind`` value → count).
    counts: dict[str, int] = field(default_factory=dict)
    #: Rows inserted or updated by this run (rows already identical are not rewritten).
    written: int = 0
    #: Rows inserted by this run (0 when every row already existed, or when skipped).
    created: int = 0
    #: Territory rows in the database that are not part of the dataset (never deleted).
    stale: int = 0
    duration_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line in French for operators (management commands, logs)."""
        values = {
            "total": format_number(self.total),
            "seconds": format_seconds(self.duration_s),
            "written": format_number(self.written),
            "created": format_number(self.created),
            "digest": self.digest[:12],
        }
        if self.skipped:
            message = _(
                "déjà à jour, aucune écriture (empreinte %(digest)s, %(total)s territoires en "
                "base, %(seconds)s s)."
            )
        elif self.written:
            message = _(
                "%(total)s territoires vérifiés en %(seconds)s s : %(written)s écrits (dont "
                "%(created)s créés)."
            )
        else:
            message = _(
                "%(total)s territoires vérifiés en %(seconds)s s : tous étaient déjà à jour, "
                "aucune ligne réécrite."
            )
        return message % values


def format_number(value: int) -> str:
    """French digit grouping (narrow no-break space): ``35 060``."""
    return f"{value:,}".replace(",", "\u202f")


def format_seconds(value: float) -> str:
    """Seconds with two decimals and a decimal comma: ``3,52``."""
    return f"{value:.2f}".replace(".", ",")


# --- Files and digest -----------------------------------------------------------------------


_FIELD_DEFAULTS: dict[str, Any] = {
    model_field.attname: model_field.get_default()
    for model_field in Territory._meta.concrete_fields
}


def _territory(kind: TerritoryKind, code: str, name: str, path: str, **fields: Any) -> Territory:
    """An unsaved row. Built from positional values: Django's keyword path is ~2x slower."""
    values = {**_FIELD_DEFAULTS, **fields, "kind": kind.value, "code": code, "name": name}
    values["path"] = path
    unknown = values.keys() - _FIELD_DEFAULTS.keys()
    if unknown:
        raise TypeError(f"unknown Territory fields: {sorted(unknown)}")
    model: Any = Territory  # positional construction is not expressible in django-stubs
    territory: Territory = model(*values.values())
    return territory


# --- Writing --------------------------------------------------------------------------------


#: Attribute names compared to decide whether a stored row must be rewritten.
_COMPARED_ATTNAMES: tuple[str, ...] = tuple(
    model_field.attname
    for name in UPDATE_FIELDS
    for model_field in Territory._meta.concrete_fields
    if model_field.name == name
)


def _upsert(rows: Sequence[Territory]) -> int:
    """Insert or update ``rows`` on ``(kind, code)``; rows identical to the stored ones are skipped.

    Returns the number of rows written. Reading the stored values back and comparing them in
    Python costs far less than having Django compile an upsert of every unchanged row.
    """
    kinds = {row.kind for row in rows}
    stored = {
        (values[0], values[1]): values[2:]
        for values in Territory.objects.filter(kind__in=kinds)
        .order_by()
        .values_list("kind", "code", *_COMPARED_ATTNAMES)
    }
    changed = [
        row
        for row in rows
        if stored.get((row.kind, row.code))
        != tuple(getattr(row, attname) for attname in _COMPARED_ATTNAMES)
    ]
    if changed:
        Territory.objects.bulk_create(
            changed,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["kind", "code"],
            update_fields=list(UPDATE_FIELDS),
        )
    return len(changed)


def _ids(kind: TerritoryKind, codes: Iterable[str] | None = None) -> dict[str, tuple[int, str]]:
    """``code → (id, path)`` of the stored rows of ``kind`` (optionally only ``codes``)."""
    queryset = Territory.objects.filter(kind=kind.value)
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    return {code: (pk, path) for pk, code, path in queryset.values_list("id", "code", "path")}


def _write(data: _Dataset) -> tuple[dict[str, int], int]:
    """Upsert every level; returns the rows per kind and the number of rows written."""
    counts: dict[str, int] = {}
    written = 0

    # National.
    all_bounds = shapely.total_bounds(list(data.geometries.values()))
    national = _territory(
        TerritoryKind.NATIONAL,
        NATIONAL_CODE,
        NATIONAL_NAME,
        NATIONAL_CODE,
        bbox_min_lon=round(float(all_bounds[0]), COORD_DECIMALS),
        bbox_min_lat=round(float(all_bounds[1]), COORD_DECIMALS),
        bbox_max_lon=round(float(all_bounds[2]), COORD_DECIMALS),
        bbox_max_lat=round(float(all_bounds[3]), COORD_DECIMALS),
    )
    written += _upsert([national])
    counts[TerritoryKind.NATIONAL.value] = 1
    national_id, national_path = _ids(TerritoryKind.NATIONAL, [NATIONAL_CODE])[NATIONAL_CODE]

    # Zones de défense et de sécurité: union of their départements (none for NC and PF).
    zones = [
        _territory(
            TerritoryKind.ZONE,
            code,
            row["nom_zone"],
            f"{national_path}/{code}",
            parent_id=national_id,
            seat=row["siege"],
            **_geometry_fields(
                _dissolve(
                    [
                        data.geometries[dep]
                        for dep, zone in data.zone_of_departement.items()
                        if zone == code
                    ]
                )
            ),
        )
        for code, row in data.zones.items()
    ]
    written += _upsert(zones)
    counts[TerritoryKind.ZONE.value] = len(zones)
    zone_ids = _ids(TerritoryKind.ZONE, data.zones)

    # Régions, under the zone that holds their départements.
    regions = []
    for code, row in data.regions.items():
        zone_id, zone_path = zone_ids[data.zone_of_region[code]]
        members = [
            data.geometries[dep]
            for dep, dep_row in data.departements.items()
            if dep_row["code_region"] == code
        ]
        regions.append(
            _territory(
                TerritoryKind.REGION,
                code,
                row["LIBELLE"],
                f"{zone_path}/R{code}",
                parent_id=zone_id,
                seat=data.commune_names.get(row["CHEFLIEU"], ""),
                **_geometry_fields(_dissolve(members)),
            )
        )
    written += _upsert(regions)
    counts[TerritoryKind.REGION.value] = len(regions)
    region_ids = _ids(TerritoryKind.REGION, data.regions)

    # Départements (under their région) and collectivités d'outre-mer (under their zone, or
    # directly under national when they have none).
    departements = []
    for code, row in data.departements.items():
        region_id, region_path = region_ids[row["code_region"]]
        departements.append(
            _territory(
                TerritoryKind.DEPARTEMENT,
                code,
                row["nom_departement"],
                f"{region_path}/D{code}",
                parent_id=region_id,
                nuts3=data.nuts_emma[code]["nuts3_2013"],
                emma_id=data.nuts_emma[code]["emma_id"],
                seat=data.commune_names[row["chef_lieu_insee"]],
                **_geometry_fields(data.geometries[code]),
            )
        )
    collectivites = []
    for code, row in data.collectivites.items():
        if row["code_zone"]:
            parent_id, parent_path = zone_ids[row["code_zone"]]
        else:
            parent_id, parent_path = national_id, national_path
        collectivites.append(
            _territory(
                TerritoryKind.COLLECTIVITE,
                code,
                row["nom_territoire"],
                f"{parent_path}/D{code}",
                parent_id=parent_id,
            )
        )
    written += _upsert(departements + collectivites)
    counts[TerritoryKind.DEPARTEMENT.value] = len(departements)
    counts[TerritoryKind.COLLECTIVITE.value] = len(collectivites)
    departement_ids = _ids(TerritoryKind.DEPARTEMENT, data.departements)

    # Communes, then the municipal arrondissements of Paris, Lyon and Marseille.
    communes = []
    arrondissement_rows = []
    for row in data.communes:
        if row["type"] == "ARM":
            arrondissement_rows.append(row)
            continue
        if row["type"] != "COM":
            raise TerritoryDataError(f"commune {row['code_insee']} : type {row['type']!r}")
        try:
            dep_id, dep_path = departement_ids[row["code_departement"]]
        except KeyError:
            raise TerritoryDataError(
                f"commune {row['code_insee']} : département {row['code_departement']} inconnu"
            ) from None
        communes.append(
            _territory(
                TerritoryKind.COMMUNE,
                row["code_insee"],
                row["nom"],
                f"{dep_path}/C{row['code_insee']}",
                parent_id=dep_id,
                **_commune_fields(row),
            )
        )
    written += _upsert(communes)
    counts[TerritoryKind.COMMUNE.value] = len(communes)

    parent_codes = {row["commune_parente"] for row in arrondissement_rows}
    commune_ids = _ids(TerritoryKind.COMMUNE, parent_codes)
    arrondissements = []
    for row in arrondissement_rows:
        try:
            commune_id, commune_path = commune_ids[row["commune_parente"]]
        except KeyError:
            raise TerritoryDataError(
                f"arrondissement {row['code_insee']} : commune {row['commune_parente']!r} inconnue"
            ) from None
        arrondissements.append(
            _territory(
                TerritoryKind.ARRONDISSEMENT,
                row["code_insee"],
                row["nom"],
                f"{commune_path}/C{row['code_insee']}",
                parent_id=commune_id,
                **_commune_fields(row),
            )
        )
    written += _upsert(arrondissements)
    counts[TerritoryKind.ARRONDISSEMENT.value] = len(arrondissements)
    return counts, written


def load_reference_territories(*, force: bool = False) -> LoadResult:
    """Load (or refresh) the reference territories; a no-op when the data has not changed.

    When the stored digest matches the files' (and ``force`` is false), returns at once without
    writing. Otherwise every row is compared with the database and the missing or different ones
    are upserted: ``force=True`` thus repairs rows edited by hand even when the data has not
    changed.
    Raises :class:`TerritoryDataError` when the bundled files are inconsistent (nothing written).
    """
    started = time.perf_counter()
    digest = dataset_digest()
    stored = ReferenceDataset.objects.filter(name=DATASET_NAME).first()
    if (
        not force
        and stored is not None
        and stored.digest == digest
        and Territory.objects.count() >= stored.rows
    ):
        return LoadResult(
            skipped=True,
            digest=digest,
            counts=_stored_counts(),
            duration_s=time.perf_counter() - started,
        )

    data = _read_dataset(DATA_DIR)
    with transaction.atomic():
        before = Territory.objects.count()
        counts, written = _write(data)
        total = sum(counts.values())
        after = Territory.objects.count()
        ReferenceDataset.objects.update_or_create(
            name=DATASET_NAME,
            defaults={"digest": digest, "loaded_at": timezone.now(), "rows": total},
        )
    clear_geometry_cache()
    return LoadResult(
        skipped=False,
        digest=digest,
        counts=counts,
        written=written,
        created=after - before,
        stale=after - total,
        duration_s=time.perf_counter() - started,
    )


def _stored_counts() -> dict[str, int]:
    """Rows per kind currently in the database (reported when loading is skipped)."""
    counts = {kind.value: 0 for kind in KIND_ORDER}
    rows = Territory.objects.order_by().values("kind").annotate(n=Count("id"))
    for row in rows:
        counts[row["kind"]] = row["n"]
    return counts
