"""Drawing only: query results in, plotly figures and cytoscape elements out, one module per
view."""
