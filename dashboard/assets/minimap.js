// The 3D map's minimap (dashboard/figures/minimap.py): its marks follow the 3D camera, and a click
// on it turns the camera to look at the clicked point. All of it happens here, from the graphs'
// plotly events: nothing goes to the server and the 3D figure is never redrawn for it.
//
// Plotly's 3D camera (layout.scene.camera: eye, center, up) is in normalised scene units: the
// position d of an axis drawn over the range [lo, hi] with the aspect ratio a lies at
// (d - (lo + hi) / 2) * a / (hi - lo), so the scene's box spans -a/2 to a/2 on that axis. The
// functions on window.hfmapMinimap convert between the two; the browser tests call them.
(function () {
  "use strict";
  const MAP = "#map-graph .js-plotly-plot";
  const MINIMAP = "#map-minimap .js-plotly-plot";
  const AXES = ["x", "y", "z"];
  const DIRECTION_SHARE = 0.2; // the view direction's line: at most this share of the minimap
  const SAME = 1e-9; // marks this close are not moved again

  /** Each axis's drawn range and aspect ratio, from a 3D scene's full layout. */
  function sceneFrame(sceneLayout) {
    const frame = {};
    AXES.forEach(function (axis) {
      const range = sceneLayout[axis + "axis"].range;
      frame[axis] = {lo: +range[0], hi: +range[1], aspect: +sceneLayout.aspectratio[axis]};
    });
    return frame;
  }

  /** A point of the scene ({x, y, z}, normalised units) in data units. */
  function toData(frame, point) {
    const data = {};
    AXES.forEach(function (axis) {
      const f = frame[axis];
      data[axis] = (f.lo + f.hi) / 2 + (point[axis] * (f.hi - f.lo)) / f.aspect;
    });
    return data;
  }

  /** A point in data units ({x, y, z}) in the scene's normalised units. */
  function toScene(frame, point) {
    const scene = {};
    AXES.forEach(function (axis) {
      const f = frame[axis];
      scene[axis] = ((point[axis] - (f.lo + f.hi) / 2) * f.aspect) / (f.hi - f.lo);
    });
    return scene;
  }

  /** Where the camera looks (its center) and where it stands (its eye), in data units. */
  function cameraView(frame, camera) {
    return {target: toData(frame, camera.center), eye: toData(frame, camera.eye)};
  }

  /** The camera moved along the plane so that it looks at the data point (x, y): its center goes
   * there at the same height, its eye moves as much, so its distance and direction stay (and its
   * up vector). */
  function cameraLookingAt(frame, camera, x, y) {
    const centre = toScene(frame, {x: x, y: y, z: toData(frame, camera.center).z});
    const dx = centre.x - camera.center.x;
    const dy = centre.y - camera.center.y;
    const moved = {
      center: {x: centre.x, y: centre.y, z: camera.center.z},
      eye: {x: camera.eye.x + dx, y: camera.eye.y + dy, z: camera.eye.z},
      up: {x: camera.up.x, y: camera.up.y, z: camera.up.z},
    };
    if (camera.projection) moved.projection = {type: camera.projection.type};
    return moved;
  }

  function clamp(value, low, high) {
    return Math.min(Math.max(value, Math.min(low, high)), Math.max(low, high));
  }

  /** The minimap's camera marks for a camera, one {x, y} per trace (figures/minimap.py's
   * CAMERA_TRACES): a line from the camera's side to the point it looks at, the camera's end of
   * it, and that point. The line is as long as the view is flat (none from straight above), at
   * most DIRECTION_SHARE of the minimap's box [x0, x1, y0, y1]; a mark beyond the box is drawn at
   * its edge. */
  function cameraMarks(frame, camera, box) {
    const view = cameraView(frame, camera);
    const look = {
      x: camera.eye.x - camera.center.x,
      y: camera.eye.y - camera.center.y,
      z: camera.eye.z - camera.center.z,
    };
    const distance = Math.hypot(look.x, look.y, look.z);
    const flat = distance > 0 ? Math.hypot(look.x, look.y) / distance : 0;
    const dx = view.eye.x - view.target.x;
    const dy = view.eye.y - view.target.y;
    const along = Math.hypot(dx, dy);
    const reach =
      along > 0
        ? (DIRECTION_SHARE * Math.max(Math.abs(box[1] - box[0]), Math.abs(box[3] - box[2])) * flat) /
          along
        : 0;
    const tx = clamp(view.target.x, box[0], box[1]);
    const ty = clamp(view.target.y, box[2], box[3]);
    const ex = clamp(tx + dx * reach, box[0], box[1]);
    const ey = clamp(ty + dy * reach, box[2], box[3]);
    return [
      {x: [ex, tx], y: [ey, ty]},
      {x: [ex], y: [ey]},
      {x: [tx], y: [ty]},
    ];
  }

  // ------------------------------------------------------------------ the graphs

  /** The 3D map's scene (its full layout), or null while the map is 2D or not drawn. */
  function mapScene(gd) {
    const scene = gd && gd._fullLayout && gd._fullLayout.scene;
    return scene && scene._scene && scene._scene.fullSceneLayout ? scene : null;
  }

  /** The frame the scene was last drawn with (after a camera change the full layout holds
   * default axis ranges until the next draw; the drawn layout keeps the real ones). */
  function drawnFrame(scene) {
    return sceneFrame(scene._scene.fullSceneLayout);
  }

  function minimapBox(mini) {
    const xa = mini._fullLayout.xaxis;
    const ya = mini._fullLayout.yaxis;
    return [xa.range[0], xa.range[1], ya.range[0], ya.range[1]];
  }

  function same(values, drawn) {
    return (
      Array.isArray(drawn) &&
      values.length === drawn.length &&
      values.every(function (value, i) {
        return Math.abs(value - drawn[i]) < SAME;
      })
    );
  }

  /** Move the minimap's marks to the 3D map's camera (an event's whole camera, else the one the
   * scene holds). */
  function showCamera(camera) {
    const gd = document.querySelector(MAP);
    const mini = document.querySelector(MINIMAP);
    const scene = mapScene(gd);
    if (!scene || !mini || !mini._fullLayout || !mini.data || mini.data.length < 3) return;
    const whole = camera && camera.eye && camera.center && camera.up ? camera : scene.camera;
    const marks = cameraMarks(drawnFrame(scene), whole, minimapBox(mini));
    const moved = marks.some(function (mark, i) {
      return !same(mark.x, mini.data[i].x) || !same(mark.y, mini.data[i].y);
    });
    if (!moved) return; // also ends the restyle -> afterplot -> showCamera round
    window.Plotly.restyle(
      mini,
      {
        x: marks.map(function (mark) {
          return mark.x;
        }),
        y: marks.map(function (mark) {
          return mark.y;
        }),
      },
      [0, 1, 2]
    );
  }

  /** Turn the 3D camera to look at the minimap's point under a click (the minimap is a static
   * plot: the click reaches it as the browser's own). */
  function lookAt(event) {
    const gd = document.querySelector(MAP);
    const mini = document.querySelector(MINIMAP);
    const scene = mapScene(gd);
    if (!scene || !mini || !mini._fullLayout || !window.Plotly) return;
    const xa = mini._fullLayout.xaxis;
    const ya = mini._fullLayout.yaxis;
    const box = mini.getBoundingClientRect();
    const px = event.clientX - box.left - xa._offset;
    const py = event.clientY - box.top - ya._offset;
    if (px < 0 || px > xa._length || py < 0 || py > ya._length) return;
    const camera = cameraLookingAt(drawnFrame(scene), scene.camera, xa.p2d(px), ya.p2d(py));
    // its relayout event keeps the camera for the next figure (pages/map.py's map-camera)
    window.Plotly.relayout(gd, {"scene.camera": camera});
  }

  function hook() {
    const gd = document.querySelector(MAP);
    const mini = document.querySelector(MINIMAP);
    if (gd && !gd.hfmapMinimap && typeof gd.on === "function") {
      gd.hfmapMinimap = true;
      gd.on("plotly_afterplot", function () {
        showCamera();
      });
      gd.on("plotly_relayout", function (update) {
        showCamera(update && update["scene.camera"]);
      });
      gd.on("plotly_relayouting", function (update) {
        showCamera(update && update["scene.camera"]);
      });
    }
    if (mini && !mini.hfmapMinimap && typeof mini.on === "function") {
      mini.hfmapMinimap = true;
      mini.on("plotly_afterplot", function () {
        showCamera();
      });
      mini.addEventListener("click", lookAt);
    }
  }

  window.hfmapMinimap = {sceneFrame, toData, toScene, cameraView, cameraLookingAt, cameraMarks};
  new MutationObserver(hook).observe(document.documentElement, {childList: true, subtree: true});
})();
