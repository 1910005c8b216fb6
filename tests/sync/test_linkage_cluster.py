"""sync.linkage.cluster: clusters from pairs, with reviewers' decisions."""

from __future__ import annotations

from sync.linkage import MATCH, NON_MATCH, POSSIBLE, Match, ScoredPair, cluster


def pair(a, b, decision=MATCH, value=0.99):
    return ScoredPair(
        a, b, Match(score=value, weight=6.0, decision=decision, reasons=())
    )


def test_connected_components_with_stable_ids():
    clusters = cluster([pair("b", "c"), pair("a", "b", POSSIBLE, 0.7), pair("x", "y")])
    assert [(c.cluster_id, c.record_ids) for c in clusters] == [
        ("a", ("a", "b", "c")),
        ("x", ("x", "y")),
    ]
    assert clusters[0].decision == POSSIBLE  # one link is only possible
    assert clusters[1].decision == MATCH
    assert set(clusters[0].links) == {("b", "c"), ("a", "b")}


def test_non_matches_and_excluded_decisions_do_not_link():
    assert cluster([pair("a", "b", NON_MATCH, 0.1)]) == []
    only_matches = cluster([pair("a", "b", POSSIBLE, 0.7)], include=(MATCH,))
    assert only_matches == []


def test_never_again_blocks_a_chain():
    # A~B and B~C are possible, but a reviewer said A and C are different people
    pairs = [pair("a", "b", POSSIBLE, 0.8), pair("b", "c", POSSIBLE, 0.6)]
    clusters = cluster(pairs, never=[("c", "a")])
    assert [c.record_ids for c in clusters] == [("a", "b")]  # the stronger link wins


def test_never_again_between_a_pair_itself():
    assert cluster([pair("a", "b")], never=[("a", "b")]) == []


def test_confirmed_pairs_join_first():
    clusters = cluster(
        [pair("b", "c", POSSIBLE, 0.9)], same=[("a", "c")], never=[("a", "b")]
    )
    assert [c.record_ids for c in clusters] == [("a", "c")]
    assert clusters[0].decision == MATCH


def test_rows_from_a_table_work_too():
    clusters = cluster([("a", "b", "match", 0.99), ("b", "c", "possible")])
    assert clusters[0].record_ids == ("a", "b", "c")


def test_larger_components_merge_correctly():
    pairs = [pair(f"r{i}", f"r{i + 1}") for i in range(50)]
    (only,) = cluster(pairs)
    assert len(only.record_ids) == 51 and only.cluster_id == "r0"
