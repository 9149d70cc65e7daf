"""Families over time (issue 16): adoption curves by creation month and member relation, and the
families that grew fastest, began most recently, reach deepest or spread widest
(dashboard/queries/adoption.py), on a build of hand-made Hub records whose answers are known.

The families (creation dates in 2022-2023; "now", the newest date, is 2023-05-31)::

    org/alpha 01-15 ─finetune→ a-ft1 02-02 ─quantized→ a-q1 03-05
              ├─adapter→ a-ad1 02-20 (also a finetune of a-ft1, one level down: not its primary)
              ├─finetune→ a-ft2 03-09
              ├─merge→ a-mg1 05-01 (also a merge of org/beta: the smaller id is its primary parent)
              ├─(unspecified)→ a-un1 05-02
              └─finetune→ a-undated (no creation date)
    org/beta 03-10 ─finetune→ b1 04-03 ─finetune→ b4 05-10, ─quantized→ b5 05-12
                   ├─finetune→ b2 04-10 ─adapter→ b6 05-15
                   └─finetune→ b3 04-20 ─finetune→ b7 05-20
    org/gamma 2022-06-01 → g1 2022-07-01 → g2 2022-08-01 → g3 2022-09-01 → g4 05-25 (finetunes)
    org/delta 05-20 ─finetune→ d1 05-22, ─adapter→ d2 05-28
    solo/latest 05-31 and solo/m0 … m15 (2022): no family of two or more
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dashboard.cache_codec import decode, encode
from dashboard.data import Build
from dashboard.figures.adoption import curves_figure, mix_figure
from dashboard.filters import Filters
from dashboard.pages.families import FamiliesState, chosen_families, curves_note
from dashboard.queries.adoption import (
    MEMBER_KINDS,
    adoption_curves,
    deepest_families,
    fastest_growing,
    find_families,
    largest_families,
    member_kinds,
    newest_large_families,
    widest_families,
)
from pipeline.config import Settings

REPO = Path(__file__).resolve().parents[2]
# id: (creation date or None, base_model tags after "base_model:", library)
MODELS = {
    "org/alpha": ("2023-01-15", [], "transformers"),
    "org/a-ft1": ("2023-02-02", ["finetune:org/alpha"], "transformers"),
    "org/a-ad1": ("2023-02-20", ["adapter:org/alpha", "finetune:org/a-ft1"], "peft"),
    "org/a-q1": ("2023-03-05", ["quantized:org/a-ft1"], "gguf"),
    "org/a-ft2": ("2023-03-09", ["finetune:org/alpha"], "transformers"),
    "org/a-mg1": ("2023-05-01", ["merge:org/alpha", "merge:org/beta"], "transformers"),
    "org/a-un1": ("2023-05-02", ["org/alpha"], "transformers"),
    "org/a-undated": (None, ["finetune:org/alpha"], "transformers"),
    "org/beta": ("2023-03-10", [], "transformers"),
    "org/b1": ("2023-04-03", ["finetune:org/beta"], "transformers"),
    "org/b2": ("2023-04-10", ["finetune:org/beta"], "transformers"),
    "org/b3": ("2023-04-20", ["finetune:org/beta"], "transformers"),
    "org/b4": ("2023-05-10", ["finetune:org/b1"], "transformers"),
    "org/b5": ("2023-05-12", ["quantized:org/b1"], "gguf"),
    "org/b6": ("2023-05-15", ["adapter:org/b2"], "peft"),
    "org/b7": ("2023-05-20", ["finetune:org/b3"], "transformers"),
    "org/gamma": ("2022-06-01", [], "transformers"),
    "org/g1": ("2022-07-01", ["finetune:org/gamma"], "transformers"),
    "org/g2": ("2022-08-01", ["finetune:org/g1"], "transformers"),
    "org/g3": ("2022-09-01", ["finetune:org/g2"], "transformers"),
    "org/g4": ("2023-05-25", ["finetune:org/g3"], "transformers"),
    "org/delta": ("2023-05-20", [], "transformers"),
    "org/d1": ("2023-05-22", ["finetune:org/delta"], "transformers"),
    "org/d2": ("2023-05-28", ["adapter:org/delta"], "peft"),
    "solo/latest": ("2023-05-31", [], "transformers"),
    **{f"solo/m{k}": (f"2022-{k % 12 + 1:02d}-01", [], "transformers") for k in range(16)},
}
KIND = {kind: place for place, kind in enumerate(MEMBER_KINDS)}


def hub_record(model_id: str, created: str | None, parents: list[str], library: str) -> dict:
    tags = [library, "text-generation", *(f"base_model:{parent}" for parent in parents)]
    record = {
        "id": model_id,
        "modelId": model_id,
        "tags": tags,
        "library_name": library,
        "pipeline_tag": "text-generation",
        "downloads": 10,
        "likes": 1,
        "private": False,
    }
    if created:
        record["createdAt"] = f"{created}T00:00:00.000Z"
    return record


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The hand-made records built by the real pipeline (`hfmap build`): the folder holding its
    builds directory ("builds") and the dashboard's cache directory ("cache")."""
    tmp = tmp_path_factory.mktemp("adoption")
    source = tmp / "families.jsonl"
    source.write_text(
        "".join(json.dumps(hub_record(i, *values)) + "\n" for i, values in MODELS.items())
    )
    command = [sys.executable, "-m", "hfmap", "build", "--source", str(source), "--embedder"]
    command += ["tfidf", "--out", str(tmp / "builds"), "--cache-dir", str(tmp / "cache"), "--quiet"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp


@pytest.fixture(scope="module")
def build(built) -> Build:
    """The build as the dashboard reads it."""
    return Build.load(built / "builds", built / "cache")


def family(curves: dict, root_id: str) -> dict:
    return next(f for f in curves["families"] if f["root_id"] == root_id)


def test_every_member_comes_in_by_its_primary_parent_link(build):
    kinds = member_kinds(build)
    kind_of = dict(zip(build.ids(np.arange(build.size)), (MEMBER_KINDS[k] for k in kinds)))
    assert {m: kind_of[m] for m in ("org/alpha", "org/beta", "solo/latest")} == dict.fromkeys(
        ("org/alpha", "org/beta", "solo/latest"), "root"
    )
    assert kind_of["org/a-ad1"] == "adapter"  # the finetune link to a-ft1 is one level too deep
    assert kind_of["org/a-mg1"] == "merge" and kind_of["org/a-q1"] == "quantized"
    assert kind_of["org/a-un1"] == "unspecified" and kind_of["org/b6"] == "adapter"


def test_adoption_counts_members_by_creation_month_and_relation(build):
    curves = adoption_curves(build, Filters(), ("org/alpha", "org/beta", "org/nowhere"))
    assert curves["months"] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]
    assert [f["root_id"] for f in curves["families"]] == ["org/alpha", "org/beta"]
    assert curves["not_found"] == ["org/nowhere"]
    alpha, beta = family(curves, "org/alpha"), family(curves, "org/beta")
    assert (alpha["members"], alpha["undated"], alpha["first"]) == (8, 1, 0)
    assert alpha["cumulative"].tolist() == [1, 3, 5, 5, 7]  # the undated member in no month
    assert alpha["normalized"].tolist() == [1, 3, 5, 5, 7]  # one member in its first month
    added = alpha["added"]
    assert added.shape == (len(MEMBER_KINDS), 5)
    assert added[KIND["root"]].tolist() == [1, 0, 0, 0, 0]
    assert added[KIND["finetune"]].tolist() == [0, 1, 1, 0, 0]
    assert added[KIND["adapter"]].tolist() == [0, 1, 0, 0, 0]
    assert added[KIND["quantized"]].tolist() == [0, 0, 1, 0, 0]
    assert added[KIND["merge"]].tolist() == [0, 0, 0, 0, 1]
    assert added[KIND["unspecified"]].tolist() == [0, 0, 0, 0, 1]
    assert (beta["first"], beta["undated"]) == (2, 0)  # 2023-03
    assert beta["cumulative"].tolist() == [0, 0, 1, 4, 8]
    assert beta["normalized"].tolist() == [1, 4, 8]
    assert beta["added"][KIND["finetune"]].tolist() == [0, 0, 0, 3, 2]
    assert curves["undated"] == 1
    # the curves run to the build's newest month even when a family stopped growing earlier
    gamma = family(adoption_curves(build, Filters(), ("org/gamma",)), "org/gamma")
    assert gamma["cumulative"][[0, 3, -2, -1]].tolist() == [1, 4, 4, 5]  # 2022-06 … 2023-05
    assert decode(encode(curves))["families"][0]["cumulative"].tolist() == [1, 3, 5, 5, 7]


def test_adoption_counts_only_the_members_that_pass_the_filters(build):
    # the root does not match: the family's first month is its first matching member's
    curves = adoption_curves(build, Filters(search="org/a-"), ("org/alpha",))
    alpha = family(curves, "org/alpha")
    assert curves["months"] == ["2023-02", "2023-03", "2023-04", "2023-05"]
    assert (alpha["members"], alpha["undated"]) == (7, 1)
    assert alpha["cumulative"].tolist() == [2, 4, 4, 6]
    assert alpha["normalized"].tolist() == [1, 2, 2, 3]
    adapters = adoption_curves(build, Filters(libraries=("peft",)), ("org/alpha", "org/gamma"))
    assert family(adapters, "org/alpha")["added"][KIND["adapter"]].sum() == 1
    gamma = family(adapters, "org/gamma")
    assert (gamma["members"], gamma["first"], len(gamma["normalized"])) == (0, None, 0)
    assert "No member passes the filters: org/gamma." in curves_note(adapters, ("org/gamma",), 2)


def test_unknown_creation_dates_are_counted_and_said(build):
    curves = adoption_curves(build, Filters(), ("org/alpha",))
    note = curves_note(curves, ("org/alpha",), 1)
    assert "1 member without a creation date is left out of the curves." in note
    only_undated = adoption_curves(build, Filters(search="a-undated"), ("org/alpha",))
    assert only_undated["months"] == [] and only_undated["undated"] == 1
    assert family(only_undated, "org/alpha")["first"] is None
    figure = curves_figure(only_undated, normalized=False)
    assert not figure.data  # no curve, and nothing placed at 1970
    assert figure.layout.annotations[0].text.startswith("No chosen family")


def test_the_largest_families_are_drawn_when_none_are_chosen(build):
    assert largest_families(build, Filters()) == [
        "org/alpha",
        "org/beta",
        "org/gamma",
        "org/delta",
        "solo/latest",  # one model each: ties go by root id
    ]
    assert largest_families(build, Filters(libraries=("peft",)), 2) == ["org/alpha", "org/beta"]


def test_the_picker_finds_families_by_root_id(build):
    assert [f["root_id"] for f in find_families(build, "")] == [
        "org/alpha",
        "org/beta",
        "org/gamma",
        "org/delta",
    ]  # families of two or more models, largest first
    assert find_families(build, "DELTA") == [{"root_id": "org/delta", "size": 3}]
    assert [f["root_id"] for f in find_families(build, "a")][:1] == ["org/alpha"]
    assert find_families(build, "solo") == []  # one model is no family to draw


def test_fastest_growing_over_a_window_of_the_builds_data(build):
    month = fastest_growing(build, Filters(), 30)
    assert (month["now"], month["start"], month["listed"], month["undated"]) == (
        "2023-05-31",
        "2023-05-01",
        4,
        1,
    )
    rows = [(r["root_id"], r["before"], r["added"], r["growth"]) for r in month["rows"]]
    assert rows == [
        ("org/beta", 4, 4, 1.0),
        ("org/delta", 0, 3, None),  # began within the window
        ("org/gamma", 4, 1, 0.25),  # one added each: the higher growth first
        ("org/alpha", 6, 1, pytest.approx(1 / 6)),  # a-mg1, made at the window's start, is before
    ]
    quarter = fastest_growing(build, Filters(), 90)
    assert [(r["root_id"], r["added"]) for r in quarter["rows"]] == [
        ("org/beta", 8),
        ("org/alpha", 4),
        ("org/delta", 3),
        ("org/gamma", 1),
    ]
    assert quarter["rows"][1]["growth"] == pytest.approx(4 / 3)
    filtered = fastest_growing(build, Filters(libraries=("transformers", "gguf")), 30)
    assert [(r["root_id"], r["added"]) for r in filtered["rows"]][:2] == [
        ("org/beta", 3),  # b6 is a peft adapter
        ("org/delta", 2),  # d2 too: the root and d1
    ]


def test_newest_large_families_began_in_the_window(build):
    assert [
        (r["root_id"], r["members"], r["began"])
        for r in newest_large_families(build, Filters(), 30)["rows"]
    ] == [("org/delta", 3, "2023-05-20")]
    assert [
        (r["root_id"], r["members"], r["began"])
        for r in newest_large_families(build, Filters(), 90)["rows"]
    ] == [("org/beta", 8, "2023-03-10"), ("org/delta", 3, "2023-05-20")]
    # without its root, alpha's first matching member is a-ft1 (2023-02-02): still not new
    assert newest_large_families(build, Filters(search="org/a-"), 90)["rows"] == []


def test_families_by_depth_and_by_breadth(build):
    shape = lambda rows: [  # noqa: E731
        (r["root_id"], r["members"], r["depth"], r["widest"], r["widest_depth"]) for r in rows
    ]
    assert shape(deepest_families(build, Filters())["rows"]) == [
        ("org/gamma", 5, 4, 1, 0),
        ("org/alpha", 8, 2, 6, 1),  # the undated member counts: depth needs no date
        ("org/beta", 8, 2, 4, 2),
        ("org/delta", 3, 1, 2, 1),
    ]
    assert [r["root_id"] for r in widest_families(build, Filters())["rows"]] == [
        "org/alpha",
        "org/beta",
        "org/delta",
        "org/gamma",
    ]
    deep = deepest_families(build, Filters(search="org/g"))
    assert shape(deep["rows"]) == [("org/gamma", 5, 4, 1, 0)] and deep["listed"] == 1


def test_figures_draw_each_family_and_each_relation(build):
    curves = adoption_curves(build, Filters(), ("org/alpha", "org/beta"))
    absolute = curves_figure(curves, normalized=False)
    assert [trace.name for trace in absolute.data] == ["org/alpha", "org/beta"]
    assert list(absolute.data[1].y) == [1, 4, 8]  # from beta's first month on
    normalized = curves_figure(curves, normalized=True)
    assert list(normalized.data[1].x) == [0, 1, 2] and list(normalized.data[1].y) == [1, 4, 8]
    mix = mix_figure(curves)
    names = [trace.name for trace in mix.data if trace.showlegend]
    assert names == ["root", "finetunes", "adapters", "quantizations", "merges", "unspecified"]


def test_the_views_state_reads_hand_edited_urls(build):
    state = FamiliesState.from_query(
        {"tab": "time", "families": "org/beta,,org/alpha,org/beta", "scale": "normalized"}
    )
    assert (state.tab, state.families, state.scale) == (
        "time",
        ("org/beta", "org/alpha"),
        "normalized",
    )
    assert state.to_query()["families"] == "org/beta,org/alpha"
    odd = FamiliesState.from_query({"tab": "x", "scale": "log", "window": "7", "families": ""})
    assert (odd.tab, odd.scale, odd.window, odd.families) == ("table", "members", 90, ())
    assert FamiliesState.from_query({"window": "365"}).window == 365
    assert len(chosen_families([f"org/m{k}" for k in range(30)])) == 10
    assert chosen_families(["a,b", "x" * 600, 3, "ok"]) == ("ok",)


def test_the_api_answers_the_views_numbers_for_its_query(built):
    from dashboard.app import create_app

    settings = Settings(cache_dir=built / "cache", tracker_db=built / "tracker.sqlite")
    client = create_app(built / "builds", settings).server.test_client()
    answer = client.get("/api/adoption?families=org/beta,org/nowhere&window=30&libraries=peft")
    assert answer.status_code == 200
    report = answer.get_json()
    beta = report["curves"]["families"][0]
    assert (beta["root_id"], beta["members"], beta["cumulative"]) == ("org/beta", 1, [1])
    assert beta["added"]["adapter"] == [1] and report["curves"]["not_found"] == ["org/nowhere"]
    assert report["fastest_growing"]["start"] == "2023-05-01"
    largest = client.get("/api/adoption?window=7").get_json()  # not a window: 90 days
    assert [f["root_id"] for f in largest["curves"]["families"]][:2] == ["org/alpha", "org/beta"]
    assert largest["fastest_growing"]["days"] == 90
    assert [r["root_id"] for r in largest["deepest_families"]["rows"]][0] == "org/gamma"
