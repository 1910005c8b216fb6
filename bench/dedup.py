"""Dedup (record linkage) benchmark: precision/recall on labelled data, and speed.

    .venv/bin/python bench/dedup.py quality --seed 2     # report (held-out seed)
    .venv/bin/python bench/dedup.py fit --seed 1         # estimate weights (tuning seed)
    .venv/bin/python bench/dedup.py speed                # 100,000 outreach records
    .venv/bin/python bench/dedup.py all                  # quality (seed 2) + speed
    .venv/bin/python bench/dedup.py quality --seed 2 --no-tf  # without term counts

``quality`` generates the synthetic data set of bench/dedup_data.py, scans it with the
rule sets in xlsforms/dedup/ and compares the pairs flagged with the truth:

* *pairs*: a flagged pair is right when both records are one real session / person;
  recall counts every true pair, including those blocking never offered;
* *clusters*: the same after ``cluster()`` (transitive closure), which is what
  indicators will count.

``fit`` prints, for each comparison level, log2(m/u): how much more often the level
occurs among true duplicates than among other candidate pairs of the tuning seed.
The rule files hold those numbers, rounded. Tune on one seed, report on another.

Scans count term frequencies over the scanned records (``scan(...,
term_frequencies=True)``: a common name or linkage code weighs less); ``--no-tf``
scores with the level weights alone, as a caller that passes no counts does.

``speed`` times a batch scan of 100,000 outreach records (peak RSS from
``resource.getrusage``), and the incremental check: one new record's probe keys
looked up in an in-memory key → ids index of the 100,000 (what the server does with
an indexed table), the candidates parsed and scored.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dedup_data import Dataset, neighbours, outreach_sessions, victim_cases  # noqa: E402

from sync.linkage import (  # noqa: E402
    MATCH,
    POSSIBLE,
    KeyIndex,
    blocking_keys,
    cluster,
    load_rules,
    prepare,
    probe_keys,
    scan,
    score_against,
)
from sync.linkage.record import levels  # noqa: E402

RULES = ROOT / "xlsforms" / "dedup"
SECRET = b"bench-secret-not-for-production"
SIZES = {"outreach_session": 4000, "victim_case": 2000}
TERM_FREQUENCIES = True  # --no-tf: level weights only (a caller without counts)


def _rules(form_id: str):
    return load_rules(RULES / f"{form_id}.toml", neighbours=neighbours(), secret=SECRET)


def _dataset(form_id: str, n: int, seed: int) -> Dataset:
    return (outreach_sessions if form_id == "outreach_session" else victim_cases)(
        n, seed
    )


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _by_id(data: Dataset) -> dict:
    return {record.record_id: record for record in data.records}


def _prf(flagged: set, truth: set) -> tuple[float, float, int, int, int]:
    tp = len(flagged & truth)
    fp = len(flagged - truth)
    fn = len(truth - flagged)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def quality(form_id: str, n: int, seed: int, verbose: bool = True) -> dict:
    """Scan one synthetic data set and compare with its truth."""
    data = _dataset(form_id, n, seed)
    rules = _rules(form_id)
    truth = data.true_pairs()
    stats: dict[str, int] = {}
    started = time.perf_counter()
    pairs = list(
        scan(
            data.records,
            rules,
            include_non_matches=True,
            stats=stats,
            term_frequencies=TERM_FREQUENCIES,
        )
    )
    elapsed = time.perf_counter() - started
    candidates = {(p.a, p.b) for p in pairs}
    by_decision = {
        "match": {(p.a, p.b) for p in pairs if p.match.decision == MATCH},
        "match+possible": {
            (p.a, p.b) for p in pairs if p.match.decision in (MATCH, POSSIBLE)
        },
    }
    flagged = [p for p in pairs if p.match.decision in (MATCH, POSSIBLE)]
    clusters = cluster(flagged)
    clustered = set()
    for c in clusters:
        ids = c.record_ids
        clustered.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    result = {
        "form_id": form_id,
        "seed": seed,
        "records": len(data.records),
        "true_pairs": len(truth),
        "candidates": len(candidates),
        "blocking_recall": len(candidates & truth) / len(truth),
        "seconds": elapsed,
        "pairs": {name: _prf(s, truth) for name, s in by_decision.items()},
        "clusters": _prf(clustered, truth),
        "n_clusters": len(clusters),
    }
    if verbose:
        _print_quality(result, data, pairs, truth, by_decision["match+possible"])
    return result


CONSENT_GROUPS = (
    "both with consent",
    "one without consent, code given",
    "both without consent, codes given",
    "without consent, no code on a side",
)


def _consent_group(records: dict, pair: tuple[str, str]) -> str:
    """Which of ``CONSENT_GROUPS`` a victim_case pair falls in."""
    sides = [records[rid].fields for rid in pair]
    named = sum("full_name" in f for f in sides)
    coded = sum("link_code" in f for f in sides)
    if named == 2:
        return CONSENT_GROUPS[0]
    if named + coded < 2:
        return CONSENT_GROUPS[3]
    return CONSENT_GROUPS[1] if named == 1 else CONSENT_GROUPS[2]


def _print_quality(result, data, pairs, truth, flagged) -> None:
    r = result
    print(
        f"\n## {r['form_id']} — seed {r['seed']}: {r['records']} records, "
        f"{r['true_pairs']} true duplicate pairs, {r['candidates']} candidate pairs "
        f"(blocking recall {r['blocking_recall']:.3f}), scan {r['seconds']:.2f} s\n"
    )
    print("| flagged as | precision | recall | TP | FP | FN |")
    print("|---|---|---|---|---|---|")
    for name, (p, rc, tp, fp, fn) in r["pairs"].items():
        print(f"| pairs: {name} | {p:.3f} | {rc:.3f} | {tp} | {fp} | {fn} |")
    p, rc, tp, fp, fn = r["clusters"]
    print(
        f"| clusters (match+possible, transitive) | {p:.3f} | {rc:.3f} | {tp} | {fp} | "
        f"{fn} |"
    )
    if r["form_id"] == "victim_case":
        groups: dict[str, tuple[set, set]] = defaultdict(lambda: (set(), set()))
        records = _by_id(data)
        for pairs_, at in ((truth, 0), (flagged, 1)):
            for pair in pairs_:
                groups[_consent_group(records, pair)][at].add(pair)
        for name in CONSENT_GROUPS:
            group_truth, group_flagged = groups[name]
            p, rc, tp, fp, fn = _prf(group_flagged, group_truth)
            print(
                f"| pairs: match+possible, {name} | {p:.3f} | {rc:.3f} | {tp} | {fp} "
                f"| {fn} |"
            )
    # recall by the way the copy was made
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a, b in truth:
        kind = data.pair_kind(a, b)
        for part in kind.split("+"):
            kinds[part][0] += 1
            kinds[part][1] += (a, b) in flagged
    print(
        "\nRecall (match+possible) by variation (a pair counts under each of its kinds):\n"
    )
    print("| variation | pairs | found | recall |")
    print("|---|---|---|---|")
    for kind, (total, found) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
        print(f"| {kind} | {total} | {found} | {found / total:.2f} |")
    hard = Counter(data.hard.values())
    hard_flagged = Counter(kind for pair, kind in data.hard.items() if pair in flagged)
    fp_kinds = Counter(data.hard.get((a, b), "other") for a, b in flagged - truth)
    print("\nHard non-duplicates (made on purpose) and false positives:\n")
    print("| kind | pairs in data | wrongly flagged |")
    print("|---|---|---|")
    for kind, count in sorted(hard.items()):
        print(f"| {kind} | {count} | {hard_flagged.get(kind, 0)} |")
    print(f"| any other pair | — | {fp_kinds.get('other', 0)} |")


def _scored(form_id: str, n: int, seeds: list[int]) -> Iterator[tuple]:
    """Every candidate pair of each seed: (pair, its levels, is it true, its group)."""
    rules = _rules(form_id)
    for seed in seeds:
        data = _dataset(form_id, n, seed)
        truth = data.true_pairs()
        records = _by_id(data)
        prepared = {r.record_id: prepare(r, rules) for r in data.records}
        for pair in scan(
            data.records,
            rules,
            include_non_matches=True,
            term_frequencies=TERM_FREQUENCIES,
        ):
            key = (pair.a, pair.b)
            group = _consent_group(records, key) if form_id == "victim_case" else ""
            found = levels(prepared[pair.a], prepared[pair.b], rules)
            yield pair, found, key in truth, group


def fit(form_id: str, n: int, seeds: list[int]) -> None:
    """Print log2(m/u) per comparison level on the tuning seed(s), pooled."""
    rules = _rules(form_id)
    m: dict[str, Counter] = defaultdict(Counter)
    u: dict[str, Counter] = defaultdict(Counter)
    code_m: Counter = Counter()
    code_u: Counter = Counter()
    date_m: Counter = Counter()
    date_u: Counter = Counter()
    names = [c.name for c in rules.comparisons]
    for _pair, found, true, group in _scored(form_id, n, seeds):
        target = m if true else u
        for comparison, level in zip(rules.comparisons, found, strict=True):
            target[comparison.name][level] += 1
        if "id_date" in names and found[names.index("case_code")] != "same":
            (date_m if true else date_u)[found[names.index("id_date")]] += 1
        if group in CONSENT_GROUPS[1:3]:
            joint = (found[names.index("link_code")], found[names.index("commune")])
            (code_m if true else code_u)[joint] += 1
    n_m = sum(m[names[0]].values())
    n_u = sum(u[names[0]].values())
    print(
        f"\n# {form_id}, seed(s) {', '.join(map(str, seeds))}: {n_m} true and {n_u} "
        f"other candidate pairs; prior = log2({n_m}/{n_u}) = "
        f"{math.log2(max(n_m, 1) / max(n_u, 1)):.2f}"
    )
    for comparison in rules.comparisons:
        levels_ = [*comparison.comparator.levels, "missing"]
        mt, ut = sum(m[comparison.name].values()), sum(u[comparison.name].values())
        cells = []
        for level in levels_:
            mm = (m[comparison.name][level] + 0.5) / (mt + 0.5 * len(levels_))
            uu = (u[comparison.name][level] + 0.5) / (ut + 0.5 * len(levels_))
            cells.append(
                f"{level} = {math.log2(mm / uu):.1f}"
                f" ({m[comparison.name][level]}/{u[comparison.name][level]})"
            )
        print(f"{comparison.name}: " + ", ".join(cells))
    if form_id == "victim_case":
        _fit_link_code(rules, code_m, code_u)
        _fit_given(rules, "id_date", "case codes differ", date_m, date_u)


def _fit_given(rules, name: str, where: str, m: Counter, u: Counter) -> None:
    """log2(m/u) of one comparison's levels on a subset of the candidate pairs.

    The identification date is fitted where the case code does not already decide:
    a re-sent form has the same day *and* the same case code (+12), so over all pairs
    ``same_day`` counts that evidence twice.
    """
    comparison = next(c for c in rules.comparisons if c.name == name)
    levels_ = [*comparison.comparator.levels, "missing"]
    mt, ut = sum(m.values()), sum(u.values())
    cells = []
    for level in levels_:
        mm = (m[level] + 0.5) / (mt + 0.5 * len(levels_))
        uu = (u[level] + 0.5) / (ut + 0.5 * len(levels_))
        cells.append(f"{level} = {math.log2(mm / uu):.1f} ({m[level]}/{u[level]})")
    print(
        f"{name}, only pairs where {where} ({mt} true, {ut} other): " + ", ".join(cells)
    )


def _fit_link_code(rules, m: Counter, u: Counter) -> None:
    """The linkage code's weights, estimated where they apply.

    A typed code exists only on a registration without consent, and there the name is
    missing (``name.missing``) and the code carries the identification. Among all
    candidate pairs "same code" is common between strangers of other communes, and
    the code is not independent of the commune. So m and u (``m``, ``u``: counts of
    (link level, commune level)) are counted only on candidate pairs with a typed
    code on a side, and each weight is read off for pairs in the same commune:
    log2(m/u) of (level, same commune), plus the offset between that subgroup's prior
    and ``prior + name.missing``, less ``commune.same``.
    """
    names = [c.name for c in rules.comparisons]
    link, commune = names.index("link_code"), names.index("commune")
    name_missing = rules.comparisons[names.index("name")].weights["missing"]
    same_commune = rules.comparisons[commune].weights["same"]
    n_m, n_u = sum(m.values()), sum(u.values())
    sub_prior = math.log2(max(n_m, 1) / max(n_u, 1))
    offset = sub_prior - (rules.prior + name_missing)
    print(
        f"\nlink_code, only pairs with a typed code ({n_m} true, {n_u} other): "
        f"subgroup prior {sub_prior:.2f}; offset vs prior + name.missing "
        f"({rules.prior} {name_missing:+}) = {offset:+.2f}; commune.same "
        f"{same_commune:+}"
    )
    cells = []
    for level in rules.comparisons[link].comparator.levels[:-1]:
        mm = (m[level, "same"] + 0.5) / (n_m + 3)
        uu = (u[level, "same"] + 0.5) / (n_u + 3)
        weight = math.log2(mm / uu) + offset - same_commune
        cells.append(f"{level} = {weight:.1f} ({m[level, 'same']}/{u[level, 'same']})")
    print("link_code (same commune, offset, less commune.same): " + ", ".join(cells))


def sweep(form_id: str, n: int, seeds: list[int]) -> None:
    """Precision/recall of "weight ≥ t" for a range of t (choose thresholds).

    For victim_case also a grid over a shift of every ``link_code`` weight but
    ``named`` (the evidence only pairs with a typed code have): for each shift, the
    lowest threshold where the pooled precision is ≥ 0.95.
    """
    scored = [
        (pair.match.weight, true, group, found)
        for pair, found, true, group in _scored(form_id, n, seeds)
    ]
    total_true = sum(true for _w, true, _g, _f in scored)
    rules = _rules(form_id)
    names = [c.name for c in rules.comparisons]
    link = names.index("link_code") if "link_code" in names else None
    print(
        f"\n# {form_id}, seed(s) {', '.join(map(str, seeds))}: threshold sweep "
        "(weight → probability; recall counts every true pair, blocked or not)"
    )
    print("| weight ≥ | probability | precision | recall | recall, both named |")
    print("|---|---|---|---|---|")
    # true pairs per seed are known only through the scan: count those never blocked
    missed = _unblocked(form_id, n, seeds)

    def prf(shift: float, code_shift: float) -> tuple[float, float, float]:
        tp = fp = tp_named = named = 0
        for weight, true, group, found in scored:
            coded = link is not None and found[link] not in ("named", "missing")
            hit = weight + shift + (code_shift if coded else 0.0) >= 0
            tp += hit and true
            fp += hit and not true
            if group == CONSENT_GROUPS[0] and true:
                named += 1
                tp_named += hit
        recall = tp / (total_true + missed)
        return (tp / (tp + fp) if tp + fp else 1.0), recall, tp_named / max(named, 1)

    for w in (x / 2 for x in range(-16, 24)):  # half-bit steps
        pr, rc, rn = prf(-w, 0.0)
        print(f"| {w:g} | {1 / (1 + 2**-w):.4f} | {pr:.3f} | {rc:.3f} | {rn:.3f} |")
    if link is None:
        return
    print(
        "\n| link_code shift | best weight ≥ (precision ≥ 0.95) | precision | recall |"
    )
    print("|---|---|---|---|")
    for code_shift in (x / 2 for x in range(-6, 7)):
        best = None
        for w in (x / 4 for x in range(-24, 25)):
            pr, rc, _ = prf(-w, code_shift)
            if pr >= 0.95 and (best is None or rc > best[2]):
                best = (w, pr, rc)
        if best:
            print(f"| {code_shift:+g} | {best[0]:g} | {best[1]:.3f} | {best[2]:.3f} |")


def _unblocked(form_id: str, n: int, seeds: list[int]) -> int:
    """True pairs that blocking never offered (they count against recall)."""
    rules = _rules(form_id)
    out = 0
    for seed in seeds:
        data = _dataset(form_id, n, seed)
        offered = {
            (p.a, p.b) for p in scan(data.records, rules, include_non_matches=True)
        }  # blocking does not depend on the weights
        out += len(data.true_pairs() - offered)
    return out


def speed(n_records: int = 100_000, n_new: int = 1000, seed: int = 3) -> None:
    """Batch scan and incremental check timings for outreach sessions."""
    rules = _rules("outreach_session")
    started = time.perf_counter()
    # one data set: the first n_records are stored, the next n_new arrive (some of
    # them re-reports of stored sessions)
    base = outreach_sessions(int((n_records + n_new) / 1.05), seed)
    records = base.records[:n_records]
    arrivals = base.records[n_records : n_records + n_new]
    generated = time.perf_counter() - started
    print(
        f"\n## speed: {len(records)} outreach_session records (generated in "
        f"{generated:.1f} s), RSS {_rss_mb():.0f} MB before the scan\n"
    )

    stats: dict[str, int] = {}
    started = time.perf_counter()
    flagged = sum(1 for _ in scan(records, rules, stats=stats))
    scan_s = time.perf_counter() - started
    peak = _peak_mb()

    started = time.perf_counter()
    index = KeyIndex(max_block=rules.max_block)
    store = {}
    n_keys = 0
    for record in records:
        keys = blocking_keys(record, rules)
        n_keys += len(keys)
        index.add(record.record_id, keys)
        store[record.record_id] = record
    build_s = time.perf_counter() - started

    timings, found, flagged_new = [], [], 0
    for record in arrivals:
        t0 = time.perf_counter()
        ids = index.lookup(probe_keys(record, rules))
        pairs = score_against(record, [store[i] for i in ids], rules)
        index.add(record.record_id, blocking_keys(record, rules))
        timings.append((time.perf_counter() - t0) * 1000)
        found.append(len(ids))
        flagged_new += bool(pairs)
        store[record.record_id] = record
    timings.sort()

    print("| what | figure |")
    print("|---|---|")
    print(
        f"| batch scan of {len(records):,} records | {scan_s:.1f} s "
        f"({stats['candidates']:,} candidate pairs scored, {flagged:,} flagged, "
        f"{stats['oversized_keys']} oversized keys skipped) |"
    )
    print(f"| peak RSS (data + scan), ru_maxrss | {peak:.0f} MB |")
    print(
        f"| stored keys: blocking_keys() for all, into KeyIndex | {n_keys:,} keys "
        f"({n_keys / len(records):.1f} per record), {build_s:.1f} s |"
    )
    print(
        f"| incremental check, {len(arrivals)} new records against "
        f"{len(records):,} | p50 {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(0.95 * len(timings))]:.2f} ms, max {timings[-1]:.2f} ms |"
    )
    print(
        f"| candidates per new record | mean {statistics.mean(found):.1f}, "
        f"max {max(found)}; {flagged_new} of {len(arrivals)} new records flagged |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("quality", "fit", "sweep", "speed", "all"))
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument(
        "--seeds", help="fit/sweep: comma-separated tuning seeds, pooled (1,6,7,8)"
    )
    parser.add_argument("--form", choices=("outreach_session", "victim_case"))
    parser.add_argument("--n", type=int, help="real sessions / persons to generate")
    parser.add_argument(
        "--records", type=int, default=100_000, help="speed: stored records"
    )
    parser.add_argument(
        "--no-tf",
        action="store_true",
        help="no term-frequency adjustment (the level weights, as without counts)",
    )
    args = parser.parse_args(argv)
    global TERM_FREQUENCIES
    TERM_FREQUENCIES = not args.no_tf
    forms = [args.form] if args.form else list(SIZES)
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    if args.command in ("quality", "all"):
        for form_id in forms:
            quality(form_id, args.n or SIZES[form_id], args.seed)
    if args.command == "fit":
        for form_id in forms:
            fit(form_id, args.n or SIZES[form_id], seeds)
    if args.command == "sweep":
        for form_id in forms:
            sweep(form_id, args.n or SIZES[form_id], seeds)
    if args.command in ("speed", "all"):
        speed(args.records)


if __name__ == "__main__":
    main()
