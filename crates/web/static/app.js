// Innkeep's small enhancements: the results map (Leaflet) and the hold countdown.
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

  function map() {
    var box = document.getElementById("map");
    if (!box || typeof L === "undefined") return;
    var items = document.querySelectorAll("#results [data-lat]");
    if (!items.length) return;
    var m = L.map(box, { scrollWheelZoom: false });
    var tiles = box.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: "Map tiles" }).addTo(m);
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
    if (bounds.length === 1) m.setView(bounds[0], 14); else m.fitBounds(bounds, { padding: [24, 24] });
  }

  document.addEventListener("DOMContentLoaded", function () { countdown(); map(); });
})();
