"""Trait orderings (issue 14 §4): the transition counts by hand, and the exact best order against
brute force over every permutation and against the paper's ILP (OR-Tools CP-SAT)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pyarrow as pa
import pytest
from ortools.sat.python import cp_model

from findings.lineage import lineage_of
from findings.ordering import (
    best_order,
    directed_edges,
    order_traits,
    top_values,
    transition_counts,
)
from findings.tables import trait_sets
from tests.findings_trees import edges_table, models_table


def _agreeing(order: list[int], edges: list[tuple[int, int]]) -> int:
    rank = {node: place for place, node in enumerate(order)}
    return sum(rank[i] < rank[j] for i, j in edges)


def _brute_force(size: int, edges: list[tuple[int, int]]) -> int:
    return max(_agreeing(list(order), edges) for order in itertools.permutations(range(size)))


def _paper_ilp(size: int, edges: list[tuple[int, int]]) -> int:
    """The paper's formulation: x[u, v] = u before v, antisymmetry, transitivity on every
    triple, maximize the edges (u, v) with x[u, v]."""
    model = cp_model.CpModel()
    before = {
        (u, v): model.new_bool_var(f"x{u}_{v}") for u in range(size) for v in range(size) if u != v
    }
    for u, v in itertools.combinations(range(size), 2):
        model.add(before[u, v] + before[v, u] == 1)
    for u, v, w in itertools.permutations(range(size), 3):
        model.add(before[u, v] + before[v, w] + before[w, u] <= 2)
    model.maximize(sum(before[u, v] for u, v in edges))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def _random_graph(
    size: int, rng: np.random.Generator, density: float = 0.75
) -> list[tuple[int, int]]:
    edges = []
    for i, j in itertools.combinations(range(size), 2):
        if rng.random() < density:
            edges.append((i, j) if rng.random() < 0.5 else (j, i))
    return edges


@pytest.mark.parametrize("size", [1, 2, 3, 5, 6, 7])
@pytest.mark.parametrize("density", [0.25, 0.75, 1.0])
def test_best_order_agrees_with_brute_force_and_the_papers_ilp(size, density):
    rng = np.random.default_rng(size)
    for _ in range(15 if size < 7 else 5):
        edges = _random_graph(size, rng, density)
        order, agreeing = best_order(size, edges)
        assert sorted(order) == list(range(size))
        assert agreeing == _agreeing(order, edges) == _brute_force(size, edges)
        if size >= 3:
            assert agreeing == _paper_ilp(size, edges)


def test_best_order_of_an_acyclic_graph_agrees_with_every_edge():
    edges = [(3, 1), (1, 4), (3, 4), (4, 0), (2, 0)]
    order, agreeing = best_order(5, edges)
    assert agreeing == 5 and _agreeing(order, edges) == 5


def test_best_order_of_two_knots_keeps_the_edges_between_them():
    # knot {0, 1, 2} (a cycle) above knot {3, 4, 5} (a cycle); every edge between goes down
    edges = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (0, 3), (1, 4), (2, 5), (6, 0)]
    order, agreeing = best_order(8, edges)
    assert agreeing == _brute_force(8, edges) == len(edges) - 2
    assert order.index(6) < min(order.index(node) for node in (0, 1, 2))
    assert max(order.index(node) for node in (0, 1, 2)) < min(order.index(n) for n in (3, 4, 5))


def test_best_order_of_twenty_values_is_exact_and_quick():
    rng = np.random.default_rng(0)
    edges = _random_graph(20, rng)
    started = time.perf_counter()
    order, agreeing = best_order(20, edges)
    assert time.perf_counter() - started < 10  # ~0.5 s on an idle core
    assert agreeing == _agreeing(order, edges)
    # no single move of one value to another place does better (a necessary condition)
    for value, place in itertools.product(range(20), range(20)):
        moved = [node for node in order if node != value]
        moved.insert(place, value)
        assert _agreeing(moved, edges) <= agreeing


def test_transition_counts_by_hand():
    # one link: parent {en, fr} -> child {en, de}: de added (from en and fr), fr dropped (to en, de)
    models = pa.table({"model_id": ["p", "c", "q"], "languages": [["en", "fr"], ["en", "de"], []]})
    traits = trait_sets(models, "languages")
    values = np.array([list(traits.labels).index(label) for label in ("en", "fr", "de")])
    counts, links = transition_counts(traits, np.array([0, 0]), np.array([1, 2]), values)
    assert links == 1  # q reports no language
    assert counts.tolist() == [[0, 0, 1], [1, 0, 2], [0, 0, 0]]
    assert directed_edges(counts) == [(0, 2), (1, 0), (1, 2)]


def test_orderings_on_the_tree():
    models = models_table()
    lineage = lineage_of(models, edges_table())
    parent, child = lineage.links.of_relation("finetune").unique_pairs()
    found = order_traits(trait_sets(models, "licenses"), parent, child, 20)
    # finetune links reporting licenses: a->b adds mit (apache->mit), b->e drops apache
    # (apache->mit), b->f drops mit (mit->apache), x->y nothing: net apache -> mit
    assert found.links == 4
    assert found.order[:2] == ["apache-2.0", "mit"]
    assert (found.edges_agreeing, found.edges_total) == (1, 1)
    assert found.share_down == pytest.approx(2 / 3)
    assert found.disagreeing == []


def test_top_values_leave_placeholders_out():
    models = pa.table(
        {
            "model_id": list("abcd"),
            "licenses": [["other"], ["other"], ["mit"], ["unknown", "mit", "gpl"]],
        }
    )
    traits = trait_sets(models, "licenses")
    assert [traits.labels[code] for code in top_values(traits, 5)] == ["mit", "gpl"]
