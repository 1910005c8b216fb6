"""Coverage benchmark: a million outreach sessions over the 94 communes of Đà Nẵng.

Builds synthetic sessions (GPS strings as Collect writes them, the form's commune,
dates and participant counts), then times the library path the server runs:
``assign_sessions`` (parse the geopoints, spatial join against the full-resolution
commune polygons, GPS-vs-form rules) and ``compute_coverage`` (per-commune sums,
high-risk flags with the border rule, indicators). Generating the data is not
timed. Reads the real boundary data in place from ``../shared/data`` (or
``$OUTREACH_SHARED_DATA``, or ``--data``); nothing is copied into the project.

    .venv/bin/python bench/coverage.py                     # 1,000,000 sessions
    .venv/bin/python bench/coverage.py --n 200000 --simplified
    .venv/bin/python bench/coverage.py --examples docs     # also the two example maps

The goal is under 10 s for the million on a 2-core machine (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import geo  # noqa: E402

BORDER_FILE = "laos_border_quangnam_derived.geojson"
MOUNTAIN = [
    "20443",
    "20455",
    "20458",
    "20467",
    "20494",
    "20698",
    "20704",
    "20707",
    "20710",
    "20716",
    "20722",
    "20734",
]


def data_dir(arg: str | None) -> Path:
    """``--data``, else ``$OUTREACH_SHARED_DATA``, else ``../shared/data``."""
    return Path(
        arg or os.environ.get("OUTREACH_SHARED_DATA") or ROOT.parent / "shared" / "data"
    )


def synthetic_sessions(areas, n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` sessions: 90 % clean fixes in the chosen commune, the rest exercise the rules.

    3 % of fixes fall in another commune (mismatch), 2 % outside every commune,
    3 % have poor accuracy, 2 % no fix at all.
    """
    rng = np.random.default_rng(seed)
    codes = areas["code"].to_numpy()
    weight = np.sqrt(shapely.area(areas.geometry.to_numpy()))
    chosen = rng.choice(len(codes), size=n, p=weight / weight.sum())
    lon, lat = np.empty(n), np.empty(n)
    for i, geom in enumerate(areas.geometry.to_numpy()):
        idx = np.flatnonzero(chosen == i)
        lon[idx], lat[idx] = _inside(geom, len(idx), rng)
    form = codes[chosen].astype(object)
    kind = rng.random(n)
    mismatch = kind < 0.03
    form[mismatch] = codes[rng.integers(0, len(codes), mismatch.sum())]
    outside = (kind >= 0.03) & (kind < 0.05)
    lon[outside], lat[outside] = rng.uniform(105.5, 106.5, outside.sum()), 16.5  # Laos
    acc = np.round(rng.gamma(2.0, 3.0, n), 1)
    acc[(kind >= 0.05) & (kind < 0.08)] = 120.0
    alt = np.round(rng.uniform(0, 1500, n), 1)
    gps = pd.Series(
        [
            f"{a:.6f} {b:.6f} {c} {d}"
            for a, b, c, d in zip(lat, lon, alt, acc, strict=True)
        ],
        dtype=object,
    )
    gps[(kind >= 0.08) & (kind < 0.10)] = None
    days = rng.integers(0, 365, n)
    total = rng.integers(5, 120, n)
    women = (total * rng.uniform(0.2, 0.5, n)).astype(int)
    girls = (total * rng.uniform(0.0, 0.2, n)).astype(int)
    return pd.DataFrame(
        {
            "gps": gps,
            "commune": form,
            "date": pd.Timestamp("2026-01-01") + pd.to_timedelta(days, unit="D"),
            "n_total": total,
            "n_women": women,
            "n_girls": girls,
            "n_ethnic_minority": (total * rng.uniform(0, 1, n)).astype(int),
        }
    )


def _inside(geom, k: int, rng) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = geom.bounds
    shapely.prepare(geom)
    xs, ys = [], []
    need = k
    while need > 0:
        x = rng.uniform(x0, x1, need * 3 + 10)
        y = rng.uniform(y0, y1, need * 3 + 10)
        ok = shapely.contains_xy(geom, x, y)
        xs.append(x[ok][:need])
        ys.append(y[ok][:need])
        need -= len(xs[-1])
    return np.concatenate(xs), np.concatenate(ys)


def run(args) -> None:
    folder = data_dir(args.data)
    name = (
        "danang2025_communes_simplified.geojson"
        if args.simplified
        else ("danang2025_communes.geojson")
    )
    t0 = time.perf_counter()
    areas = geo.read_boundaries(folder / name).areas
    border = geo.read_lines(folder / BORDER_FILE)
    read_s = time.perf_counter() - t0
    print(
        f"boundaries: {name} ({len(areas)} communes); generating {args.n:,} sessions...",
        file=sys.stderr,
    )
    sessions = synthetic_sessions(areas, args.n)
    cases = pd.DataFrame(
        {
            "commune": ["20443"] * 7 + ["20698"] * 3,
            "id_date": "2026-08-01",
            "all_needs_served": ["yes"] * 6 + ["no"] * 4,
        }
    )
    period = geo.parse_period(args.period)

    t1 = time.perf_counter()
    assignment = geo.assign_sessions(sessions, areas)
    t2 = time.perf_counter()
    placed = sessions.assign(commune=assignment.assigned["commune"])
    coverage = geo.compute_coverage(
        areas,
        period,
        sessions=placed,
        cases=cases,
        border=border,
        staff_roster={"": 120},
    )
    t3 = time.perf_counter()

    print(f"\n{'stage':<44}{'seconds':>9}")
    print(f"{'read boundaries + border (not in total)':<44}{read_s:>9.2f}")
    print(f"{'assign_sessions (parse, sjoin, rules)':<44}{t2 - t1:>9.2f}")
    print(f"{'compute_coverage (groupby, border rule)':<44}{t3 - t2:>9.2f}")
    print(f"{'TOTAL (assign + coverage)':<44}{t3 - t1:>9.2f}")
    reasons = assignment.assigned["reason"].value_counts()
    print(
        "\nassignment reasons: " + ", ".join(f"{k} {v:,}" for k, v in reasons.items())
    )
    review = assignment.review["reason"].value_counts()
    print("review list: " + ", ".join(f"{k} {v:,}" for k, v in review.items()))
    table = coverage.by_commune.sort_values("sessions", ascending=False)
    cols = [
        "code",
        "name",
        "high_risk",
        "sessions",
        "participants",
        "women_girls",
        "days_since_last_session",
    ]
    print(
        f"\nperiod {period.label}: {int(table['sessions'].sum()):,} sessions in "
        f"{int((table['sessions'] > 0).sum())} communes; high-risk communes:"
    )
    print(table.loc[table["high_risk"], cols].to_string(index=False))
    for ind in coverage.indicators:
        d = geo.public_indicator(ind)
        print(f"  {ind.key:<22} {d['numerator']}/{d['denominator']} = {d['percent']}")
    if args.examples:
        example_maps(Path(args.examples), folder)


def example_maps(out: Path, folder: Path) -> None:
    """Write map-example.png (real boundaries) and map-example-approximate.png."""
    out.mkdir(parents=True, exist_ok=True)
    border = geo.read_lines(folder / BORDER_FILE)
    real = geo.read_boundaries(folder / "danang2025_communes_simplified.geojson").areas
    real_set = geo.BoundarySet(
        "Xã/phường 2025 (bản đồ sáp nhập)",
        date(2025, 7, 1),
        "thanglequoc/vietnamese-provinces-database (MIT), theo sapnhap.bando.com.vn, "
        "NXB Tài nguyên – Môi trường và Bản đồ Việt Nam",
    )
    approx = geo.approximate_areas(geo.read_official_points("48"))
    rng = np.random.default_rng(2026)
    uncovered = {"20704", "20716"}  # two border communes without a session yet
    codes = [c for c in real["code"] if c not in uncovered]
    inland = [c for c in MOUNTAIN if c not in uncovered | {"20443", "20455"}]
    chosen = list(rng.choice(codes, 70)) + list(rng.choice(inland, 45))
    chosen += ["20443"] * 4 + ["20698"] * 6 + ["20455"] * 2
    sessions = pd.DataFrame(
        {
            "commune": chosen,
            "date": "2026-08-15",
            "n_total": 40,
            "n_women": 15,
            "n_girls": 6,
            "n_ethnic_minority": 30,
        }
    )
    cases = pd.DataFrame(
        {
            "commune": ["20443"] * 6 + ["20455"] * 2 + ["20704", None],
            "id_date": "2026-08-01",
            "all_needs_served": ["yes"] * 5 + ["no", "yes", "yes", "no", "no_needs"],
        }
    )
    trainees = pd.DataFrame(
        {
            "trainee_id": [f"t{i}" for i in range(23)],
            "commune": "",
            "date": "2026-07-20",
        }
    )
    when = datetime(2026, 9, 30, 17, 5)
    for areas, bs, name in (
        (real, real_set, "map-example.png"),
        (approx, geo.approximate_boundary_set(), "map-example-approximate.png"),
    ):
        cov = geo.compute_coverage(
            areas,
            geo.parse_period("2026-Q3"),
            sessions=sessions,
            cases=cases,
            trainees=trainees,
            border=border,
            staff_roster={"": 40},
            marked={"20710": "chợ biên giới"},
        )
        png = geo.render_map(
            cov, border=border, boundary_set=bs, data_time=when, dpi=115
        )
        (out / name).write_bytes(png)
        print(f"wrote {out / name} ({len(png) / 1024:.0f} KB)", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="sessions (1,000,000)")
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--data", help="shared data folder (default ../shared/data)")
    parser.add_argument(
        "--simplified",
        action="store_true",
        help="use the simplified polygons instead of full resolution",
    )
    parser.add_argument(
        "--examples", metavar="DIR", help="also write the two example maps"
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
