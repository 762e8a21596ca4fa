// Innkeep's small enhancements: the results map (Leaflet, with an offline base map when
// no tile server is configured) and the hold countdown.
// Pages work without this file.
(function () {
  "use strict";

  function countdown() {
    var el = document.querySelector("[data-expires-at]");
    if (!el) return;
    var until = Date.parse(el.getAttribute("data-expires-at"));
    var out = el.querySelector(".remaining");
    if (isNaN(until) || !out) return;
    function tick() {
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      out.textContent = left > 0 ? " (" + m + ":" + (s < 10 ? "0" : "") + s + " left)" : " (expired: place the booking again)";
      if (left > 0) setTimeout(tick, 1000);
    }
    tick();
  }

  // Without a tile server, the base layer is the Natural Earth country outlines shipped
  // with the program (world-atlas TopoJSON), drawn below the markers.
  function baseMap(m, url) {
    if (!url || typeof topojson === "undefined") return;
    m.createPane("base");
    m.getPane("base").style.zIndex = 250;
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("atlas " + r.status); return r.json(); })
      .then(function (topo) {
        var land = topojson.feature(topo, topo.objects.countries);
        L.geoJSON(land, { pane: "base", interactive: false, className: "land",
          style: { color: "#8796a5", weight: 1, fillColor: "#f3efe6", fillOpacity: 1 } }).addTo(m);
        m.attributionControl.addAttribution("Outlines: Natural Earth");
      })
      .catch(function () { /* the markers still show on the plain background */ });
  }

  function map() {
    var box = document.getElementById("map");
    if (!box || typeof L === "undefined") return;
    var items = document.querySelectorAll("#results [data-lat]");
    if (!items.length) return;
    var tiles = box.getAttribute("data-tiles");
    var m = L.map(box, { scrollWheelZoom: false, maxZoom: tiles ? 19 : 12 });
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: "Map tiles" }).addTo(m);
    } else {
      baseMap(m, box.getAttribute("data-atlas"));
    }
    var bounds = [];
    items.forEach(function (li) {
      var lat = parseFloat(li.getAttribute("data-lat")), lon = parseFloat(li.getAttribute("data-lon"));
      if (isNaN(lat) || isNaN(lon)) return;
      var marker = L.circleMarker([lat, lon], { radius: 8, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1 });
      var a = document.createElement("a");
      a.href = li.getAttribute("data-href");
      a.textContent = li.getAttribute("data-name") + " · " + li.getAttribute("data-price");
      marker.bindPopup(a).addTo(m);
      bounds.push([lat, lon]);
    });
    // Country outlines carry no street detail, so the first view stays wide enough to show them.
    var closest = tiles ? 14 : 6;
    if (bounds.length === 1) m.setView(bounds[0], closest); else m.fitBounds(bounds, { padding: [24, 24], maxZoom: closest });
  }

  document.addEventListener("DOMContentLoaded", function () { countdown(); map(); });
})();
