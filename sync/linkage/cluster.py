"""Group duplicate pairs into clusters (one real-world session or person each).

Union-find over the ``match``/``possible`` pairs, best first, with two kinds of
reviewer decisions: ``same`` pairs (confirmed duplicates) are joined first, and
``never`` pairs ("not duplicates, never ask again") are cannot-link constraints: an
edge that would put both records of a ``never`` pair in one cluster is skipped, so
a chain A~B~C cannot bring back a rejected A/C.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sync.linkage.scoring import MATCH, POSSIBLE, ScoredPair

__all__ = ["Cluster", "cluster"]

PairLike = ScoredPair | tuple[str, str, str] | tuple[str, str, str, float]

_CONFIRMED = "confirmed"
_RANK = {_CONFIRMED: 0, MATCH: 1, POSSIBLE: 2}


@dataclass(frozen=True, slots=True)
class Cluster:
    """Records judged to be one session or person."""

    cluster_id: str  # the smallest record id: stable while that record stays in it
    record_ids: tuple[str, ...]  # sorted
    decision: str  # "match" when every link is a match or confirmed, else "possible"
    links: tuple[tuple[str, str], ...]  # the pairs that joined it, in joining order


def _unpack(pair: PairLike) -> tuple[str, str, str, float]:
    if isinstance(pair, ScoredPair):
        return pair.a, pair.b, pair.match.decision, pair.match.score
    if len(pair) == 4:
        a, b, decision, value = pair  # type: ignore[misc]
        return str(a), str(b), str(decision), float(value)
    a, b, decision = pair  # type: ignore[misc]
    return str(a), str(b), str(decision), 0.0


def cluster(
    pairs: Iterable[PairLike],
    *,
    same: Iterable[tuple[str, str]] = (),
    never: Iterable[tuple[str, str]] = (),
    include: Iterable[str] = (MATCH, POSSIBLE),
) -> list[Cluster]:
    """Clusters of two or more records, sorted by ``cluster_id``.

    :param pairs: scored pairs, or ``(a, b, decision[, score])`` rows from a table.
    :param same: pairs a reviewer confirmed as duplicates (always joined, unless
        that breaks a ``never`` pair).
    :param never: pairs a reviewer marked as not duplicates.
    :param include: which decisions link records (default: match and possible).
    """
    wanted = set(include)
    forbidden: dict[str, set[str]] = {}
    for a, b in never:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)
    edges = [(a, b, _CONFIRMED, 1.0) for a, b in same]
    edges += [row for row in map(_unpack, pairs) if row[2] in wanted]
    edges.sort(
        key=lambda e: (_RANK.get(e[2], 9), -e[3], min(e[0], e[1]), max(e[0], e[1]))
    )

    parent: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    links: dict[str, list[tuple[str, str]]] = {}
    weakest: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        members.setdefault(x, {x})
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b, decision, _ in edges:
        if a == b:
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        small, large = sorted((members[ra], members[rb]), key=len)
        if any(forbidden.get(m, set()) & large for m in small):
            continue
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        members[ra] |= members.pop(rb)
        links[ra] = links.get(ra, []) + links.pop(rb, []) + [(a, b)]
        decisions = {weakest.pop(rb, MATCH), weakest.get(ra, MATCH), decision}
        weakest[ra] = POSSIBLE if POSSIBLE in decisions else MATCH

    out = [
        Cluster(
            cluster_id=min(ids),
            record_ids=tuple(sorted(ids)),
            decision=weakest.get(root, MATCH),
            links=tuple(links.get(root, ())),
        )
        for root, ids in members.items()
        if len(ids) > 1
    ]
    out.sort(key=lambda c: c.cluster_id)
    return out
