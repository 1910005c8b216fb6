/* Coverage map: commune choropleth, border line and clustered session points.
   No basemap (works offline). Data: the coverage GeoJSON API, the border and
   points endpoints of the web app; all same-origin, sent with the session cookie. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var labels = JSON.parse(el.getAttribute("data-labels"));
  var column = el.getAttribute("data-column");
  var own = (el.getAttribute("data-own") || "").split(",").filter(Boolean);
  var info = document.getElementById("commune-info");
  var COLOURS = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
  var ZERO = "#fde0dd";

  el.innerHTML = "";
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false, minZoom: 5, maxZoom: 16 });
  map.setView([15.6, 107.9], 8);

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/geo+json, application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function value(p) {
    var v = p[column];
    if (v === "<5") { return 2; }
    return typeof v === "number" ? v : null;
  }

  function breaks(values) {
    // quartiles of the non-zero values, without repeats (few communes: few classes)
    var sorted = values.filter(function (v) { return v > 0; }).sort(function (a, b) { return a - b; });
    if (!sorted.length) { return [1]; }
    var q = function (f) { return sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]; };
    var out = [];
    [q(0.25), q(0.5), q(0.75), sorted[sorted.length - 1]].forEach(function (v) {
      if (out.indexOf(v) < 0) { out.push(v); }
    });
    return out;
  }

  function mainland(layer) {
    // Fit to the communes, leaving out far-off islands (they would shrink the view).
    var boxes = [];
    layer.eachLayer(function (l) { boxes.push(l.getBounds()); });
    if (boxes.length < 4) { return layer.getBounds(); }
    var xs = boxes.map(function (b) { return b.getCenter().lng; }).sort(function (a, b) { return a - b; });
    var ys = boxes.map(function (b) { return b.getCenter().lat; }).sort(function (a, b) { return a - b; });
    var mx = xs[Math.floor(xs.length / 2)], my = ys[Math.floor(ys.length / 2)];
    var dist = boxes.map(function (b) { var c = b.getCenter(); return Math.hypot(c.lng - mx, c.lat - my); });
    var sortedDist = dist.slice().sort(function (a, b) { return a - b; });
    var limit = 3 * sortedDist[Math.floor(sortedDist.length * 0.9)];
    var bounds = null;
    boxes.forEach(function (b, i) {
      if (dist[i] <= limit) { bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); }
    });
    return bounds || layer.getBounds();
  }

  function colour(v, b) {
    if (v === null) { return "#eeeeee"; }
    if (column === "days_since_last_session") {
      // more days = worse: reversed scale
      if (v === 0) { return COLOURS[4]; }
      for (var j = 0; j < b.length; j++) { if (v <= b[j]) { return COLOURS[3 - j]; } }
      return COLOURS[0];
    }
    if (v === 0) { return ZERO; }
    var shift = 4 - b.length; // few classes: use the darker end of the scale
    for (var i = 0; i < b.length; i++) { if (v <= b[i]) { return COLOURS[i + 1 + shift]; } }
    return COLOURS[4];
  }

  function text(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }

  function show(p) {
    var rows = ["sessions", "participants", "women_girls", "ethnic_minority", "victim_cases", "trainees"];
    var html = "<h2>" + text(p.name) + " <span class=\"muted\">" + text(p.code) + "</span></h2><table>";
    rows.forEach(function (k) {
      if (k in p) { html += "<tr><th scope=\"row\">" + text(labels[k]) + "</th><td>" + text(p[k] === null ? labels.none : p[k]) + "</td></tr>"; }
    });
    html += "<tr><th scope=\"row\">" + text(labels.high_risk) + "</th><td>" + text(p.high_risk ? labels.yes : labels.no) + "</td></tr>";
    html += "<tr><th scope=\"row\">" + text(labels.last_session) + "</th><td>" + text(p.last_session || labels.never) + "</td></tr>";
    html += "</table>";
    info.innerHTML = html;
  }

  function legend(b) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var html = "<strong>" + text(labels[column] || column) + "</strong><br>";
      if (column !== "days_since_last_session") {
        html += "<i style=\"background:" + ZERO + "\"></i>0<br>";
      }
      var lo = 1;
      for (var i = 0; i < b.length; i++) {
        var c = colour(b[i], b);
        html += "<i style=\"background:" + c + "\"></i>" + lo + (b[i] > lo ? "–" + b[i] : "") + "<br>";
        lo = b[i] + 1;
      }
      html += "<i style=\"background:#eeeeee\"></i>" + text(labels.none);
      div.innerHTML = html;
      return div;
    };
    ctl.addTo(map);
  }

  info.setAttribute("data-state", "loading");
  get(el.getAttribute("data-coverage")).then(function (fc) {
    var vals = fc.features.map(function (f) { return value(f.properties); }).filter(function (v) { return v !== null; });
    var b = breaks(vals);
    var layer = L.geoJSON(fc, {
      style: function (f) {
        var mine = own.indexOf(f.properties.code) >= 0;
        return {
          color: f.properties.high_risk ? "#b71c1c" : "#555",
          weight: mine ? 3.5 : (f.properties.high_risk ? 2 : 0.8),
          dashArray: mine ? null : null,
          fillColor: colour(value(f.properties), b),
          fillOpacity: 0.85
        };
      },
      onEachFeature: function (f, lyr) {
        lyr.bindTooltip(text(f.properties.name), { sticky: true });
        lyr.on("click", function () { show(f.properties); });
        if (lyr.getElement) {
          lyr.on("add", function () {
            var node = lyr.getElement();
            if (node) { node.setAttribute("data-code", f.properties.code); node.classList.add("commune"); }
          });
        }
      }
    }).addTo(map);
    map.fitBounds(mainland(layer), { padding: [10, 10] });
    legend(b);
    if (fc.boundary_set && fc.boundary_set.approximate) {
      var warn = L.control({ position: "topright" });
      warn.onAdd = function () { var d = L.DomUtil.create("div", "legend warn"); d.textContent = labels.approximate; return d; };
      warn.addTo(map);
    }
    info.setAttribute("data-state", "ready");
    el.setAttribute("data-ready", "1");
  }).catch(function () {
    info.innerHTML = "<p class=\"flash error\">" + text(labels.failed) + "</p>";
  });

  get(el.getAttribute("data-border")).then(function (fc) {
    if (fc.features && fc.features.length) {
      L.geoJSON(fc, { interactive: false, style: { color: "#6a1b9a", weight: 3, dashArray: "8 6" } }).addTo(map);
    }
  }).catch(function () { /* the border is optional */ });

  var pointsUrl = el.getAttribute("data-points");
  if (pointsUrl && L.markerClusterGroup) {
    get(pointsUrl).then(function (fc) {
      var group = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
      fc.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var mk = L.circleMarker([c[1], c[0]], { radius: 6, color: "#e65100", weight: 1, fillOpacity: 0.9, className: "session-point" });
        mk.bindTooltip(text(f.properties.date) + (f.properties.participants ? " · " + f.properties.participants : ""));
        group.addLayer(mk);
      });
      map.addLayer(group);
    }).catch(function (err) { if (window.console) { console.warn("points:", err); } });
  }
}());
