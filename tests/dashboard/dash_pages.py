"""Reading the dashboard's pages in tests without a browser: every component of a layout tree,
and a view opened as the browser opens it (Dash pages' router callback)."""

from __future__ import annotations


def components(node):
    """Every component in a layout tree."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from components(child)


def open_page(client, pathname, search="") -> tuple[int, str]:
    """What the browser asks when it opens a view: Dash pages' router callback (a hand-made request
    may give pathname and search values of any type); the answer's status and body."""
    payload = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=payload)
    return response.status_code, response.get_data(as_text=True)
