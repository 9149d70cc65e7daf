"""JSON endpoints for the team's scripts, on the dashboard's server:

GET /api/count                    the Hub's model count from the last successful snapshot
GET /api/history?from=ISO&to=ISO  successful snapshots between two times (&failures=1: failed
                                  runs too)
GET /api/growth                   growth statistics and the tracker's state
GET /api/findings?relation=&family=  the paper's findings on the served build (issue 14), with
                                  the paper's own numbers apart under "paper"
GET /api/models.csv?<a view's query>  the models that pass the query's filters (inside its
                                  selection, sel=, when it has one) as CSV, most downloaded first,
                                  at most 100,000 (limit= for fewer); the headers X-Hfmap-Matching
                                  and X-Hfmap-Rows say how many matched and how many are written
GET /api/compare?a=ID&b=ID        two models compared: their traits (what only a, only b and both
                                  have), their similarity by each measure of the Evolution view
                                  beside its typical means, and the path between them through
                                  their closest common ancestor; 404 for a model the build lacks
GET /api/family.graphml?model=ID  the model's family (itself, its ancestors, its descendants and
GET /api/family.csv?model=ID      their links) as GraphML, or its links as CSV
                                  (parent_id,child_id,relation); 404 for a model the build lacks
GET /api/adoption?<the Families view's query>  its Over time and Fastest growing numbers: the
                                  curves of families= (default: the 5 largest) and the rankings
                                  over window= days, counting the models that pass the filters

Answers come from the same cached queries as the Growth and Evolution views.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from dashboard.filters import Selection
from dashboard.pages.families import FamiliesState
from dashboard.queries.adoption import adoption_report
from dashboard.queries.compare import compare_models, comparison_json, typical_similarity
from dashboard.queries.family_export import (
    export_file_name,
    family_edges_csv,
    family_export,
    family_graphml,
)
from dashboard.queries.findings import FindingsUnavailableError, ScopeError, build_findings
from dashboard.queries.growth import history_version, snapshot_rows, tracker_report, with_age
from dashboard.queries.model_export import EXPORT_ROWS, export_filename, models_csv
from dashboard.serving import served_build, served_settings
from dashboard.url_state import from_query
from dashboard.values import whole_number
from findings import PAPER_FINDINGS

api = Blueprint("api", __name__, url_prefix="/api")


def report() -> dict:
    path = served_settings().tracker_db
    return with_age(tracker_report.cached(str(path), history_version(path)), datetime.now(UTC))


def iso_time(name: str) -> str | None:
    """A query parameter as an ISO 8601 UTC time (a date alone means its midnight); ValueError if it
    is not one."""
    text = request.args.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        raise ValueError(
            f"{name}={text!r} is not an ISO 8601 time such as 2026-11-01 or 2026-11-01T12:00:00Z."
        ) from None
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is a valid ISO time before the first UTC one
        raise ValueError(
            f"{name}={text!r} lies outside the times this server can compare (years 1 to 9999 UTC)."
        ) from None
    return moment.isoformat(timespec="seconds")


@api.get("/count")
def count():
    growth = report()["growth"]
    if growth["total_models"] is None:
        return jsonify({"error": "no successful snapshot yet; run `hfmap track --once`."}), 404
    return jsonify(
        {
            "total_models": growth["total_models"],
            "taken_at": growth["taken_at"],
            "age_seconds": growth["age_seconds"],
        }
    )


@api.get("/history")
def history():
    try:
        since, until = iso_time("from"), iso_time("to")
    except ValueError as error:
        return jsonify({"error": str(error)}), 400
    path = served_settings().tracker_db
    rows = snapshot_rows.cached(
        str(path),
        history_version(path),
        since,
        until,
        request.args.get("failures") in ("1", "true"),
    )
    return jsonify({"from": since, "to": until, "snapshots": rows})


@api.get("/growth")
def growth():
    current = report()
    return jsonify(
        {
            **current["growth"],
            "last_run": current["last_run"],
            "last_failure": current["last_failure"],
            "schedules": current["schedules"],
            "jobs": current["jobs"],
        }
    )


@api.get("/findings")
def findings():
    """Every finding of the served build for ?relation= (default: finetune links when the build
    has typed relations) inside the family rooted at ?family= (default: every model); the
    paper's numbers under "paper", never mixed with the build's."""
    relation = request.args.get("relation") or None
    family = request.args.get("family") or None
    try:
        found = build_findings.cached(served_build(), relation, family)
    except ScopeError as error:
        return jsonify({"error": str(error)}), 400
    except FindingsUnavailableError as error:
        return jsonify({"error": str(error)}), 503
    return jsonify({**found, "paper": PAPER_FINDINGS})


@api.get("/adoption")
def adoption():
    """The Families view's Over time and Fastest growing numbers for its query (the filters,
    families= and window=, read as the view reads them)."""
    filters, view = from_query(request.query_string.decode("utf-8", "replace"))
    state = FamiliesState.from_query(view)
    return jsonify(adoption_report(served_build(), filters, state.families, state.window))


@api.get("/models.csv")
def models_export():
    """The models of a view's query (its filters, and its map selection sel=) as CSV, at most
    limit= (and EXPORT_ROWS) of them, the most downloaded first; 400 for a selection or limit that
    does not parse (a script should not get every model for a typo)."""
    filters, view = from_query(request.query_string.decode("utf-8", "replace"))
    selection = Selection.from_text(view.get("sel"))
    if "sel" in view and selection is None:
        return jsonify({"error": f"sel={view['sel'][:100]!r} is not a map selection."}), 400
    limit = whole_number(view.get("limit", EXPORT_ROWS), -1, 0, EXPORT_ROWS)
    if limit < 0:
        return jsonify({"error": "limit= must be a whole number."}), 400
    build = served_build()
    export = models_csv(build, filters, selection, limit)
    return Response(
        export.csv,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{export_filename(build.version)}"',
            "X-Hfmap-Matching": str(export.matching),
            "X-Hfmap-Rows": str(export.rows),
        },
    )


@api.get("/compare")
def compare():
    """Models ?a= and ?b= of the served build compared (the Compare view's numbers); 400 without
    both ids, 404 for an id the build lacks."""
    a, b = request.args.get("a") or "", request.args.get("b") or ""
    if not (a and b):
        return jsonify({"error": "give the two models to compare as ?a=ID&b=ID."}), 400
    build = served_build()
    comparison = compare_models.cached(build, a, b)
    if comparison is None:
        missing = a if build.row(a) is None else b
        return jsonify({"error": f"the served build holds no model {missing[:200]!r}."}), 404
    return jsonify(comparison_json(comparison, typical_similarity.cached(build)))


def family_file(kind: str):
    """The family of ?model= as a download of ``kind`` ("graphml" or "csv"), or a 404 with one
    sentence."""
    model_id = request.args.get("model") or ""
    family = family_export.cached(served_build(), model_id)
    if family is None:
        sentence = "the served build holds no model with the id given as ?model=."
        return jsonify({"error": sentence}), 404
    if kind == "graphml":
        content, mimetype, name = family_graphml(family), "application/graphml+xml", ".graphml"
    else:
        content, mimetype, name = family_edges_csv(family), "text/csv", "-links.csv"
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{export_file_name(model_id)}{name}"'
        },
    )


@api.get("/family.graphml")
def family_graphml_file():
    return family_file("graphml")


@api.get("/family.csv")
def family_csv_file():
    return family_file("csv")
