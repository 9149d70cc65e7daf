// The map's legend names long values shortened; hovering an entry shows the value in full: each
// entry gets an SVG <title> with its trace's meta (the full value, set as text: a value from the
// Hub is never markup). Dash serves every file of dashboard/assets on every page.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  function titleLegend(gd) {
    gd.querySelectorAll(".legend .traces").forEach(function (item) {
      const data = item.__data__;
      const trace = data && data[0] && data[0].trace;
      if (!trace || typeof trace.meta !== "string") return;
      let title = item.querySelector(":scope > title");
      if (!title) {
        title = document.createElementNS(SVG, "title");
        item.insertBefore(title, item.firstChild);
      }
      title.textContent = trace.meta;
    });
  }

  function hook() {
    const gd = document.querySelector("#map-graph .js-plotly-plot");
    if (!gd || gd.hfmapLegendTitles || typeof gd.on !== "function") return;
    gd.hfmapLegendTitles = true;
    gd.on("plotly_afterplot", function () {
      titleLegend(gd);
    });
    titleLegend(gd);
  }

  new MutationObserver(hook).observe(document.documentElement, {childList: true, subtree: true});
})();
