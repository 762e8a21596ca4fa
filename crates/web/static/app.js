// Innkeep's small enhancements: the results map (Leaflet, with an offline base map when
// no tile server is configured), check-out following check-in, picking a range on the
// host's calendar, and the hold countdown.
// Pages work without this file.
(function () {
  "use strict";

  // The page's words for what this file writes (the server sends them in the page's
  // language, `data-words` on <body>); English when a phrase is missing.
  var WORDS = {};
  try { WORDS = JSON.parse(document.body.getAttribute("data-words") || "{}"); } catch (e) { WORDS = {}; }
  function t(phrase) { return WORDS[phrase] || phrase; }
  function tf(phrase) {
    var values = Array.prototype.slice.call(arguments, 1), i = 0;
    return t(phrase).replace(/\{\}/g, function () { return String(values[i++]); });
  }

  function countdown() {
    var el = document.querySelector("[data-expires-at]");
    if (!el) return;
    var until = Date.parse(el.getAttribute("data-expires-at"));
    var out = el.querySelector(".remaining");
    if (isNaN(until) || !out) return;
    function tick() {
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      out.textContent = " (" + (left > 0 ? tf("{} left", m + ":" + (s < 10 ? "0" : "") + s) : t("expired: place the booking again")) + ")";
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

  // A Leaflet map in `box`: the configured tile server's tiles (`data-tiles`), or else the
  // country outlines (`data-atlas`). Without tiles the outlines carry no street detail, but
  // zooming in still separates the places of one city.
  function leafletMap(box) {
    var tiles = box.getAttribute("data-tiles");
    var m = L.map(box, { scrollWheelZoom: false, maxZoom: tiles ? 19 : 16 });
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: "Map tiles" }).addTo(m);
    } else {
      baseMap(m, box.getAttribute("data-atlas"));
    }
    return m;
  }

  // Markers whose price labels would overlap at the current zoom (closer than this many
  // pixels across and down) merge into one marker labelled with their count.
  var MERGE_X = 76, MERGE_Y = 30;


  // The results map: a price on each marker, nearby markers merged (clicking a merged one
  // zooms in), each marker reachable by keyboard, cards and markers lit together, and a
  // "Search this area" button once the map is moved.
  function map() {
    var box = document.getElementById("map");
    if (!box || typeof L === "undefined") return;
    var stays = [];
    document.querySelectorAll("#results [data-lat]").forEach(function (li) {
      var lat = parseFloat(li.getAttribute("data-lat")), lon = parseFloat(li.getAttribute("data-lon"));
      if (isNaN(lat) || isNaN(lon)) return;
      var price = li.getAttribute("data-price") || "";
      var amount = parseFloat(li.getAttribute("data-amount"));
      stays.push({ li: li, at: L.latLng(lat, lon), name: li.getAttribute("data-name"),
        href: li.getAttribute("data-href"), price: price, amount: isNaN(amount) ? Infinity : amount,
        label: price.replace(/[.,]00(?=\D*$)/, ""), group: null });
    });
    if (!stays.length) return;
    var m = leafletMap(box);
    var layer = L.layerGroup().addTo(m);
    var groups = [];
    var refocus = null;

    function light(group, on) {
      group.stays.forEach(function (s) { s.li.classList.toggle("active", on); });
      var el = group.marker && group.marker.getElement();
      if (el) el.classList.toggle("active", on);
      if (group.marker) group.marker.setZIndexOffset(on ? 1000 : 0);
    }

    function openStays(group, focus) {
      var content;
      if (group.stays.length === 1) {
        var s = group.stays[0];
        content = document.createElement("a");
        content.href = s.href;
        content.textContent = s.name + " · " + s.price;
      } else {
        content = document.createElement("ul");
        content.className = "popup-list";
        group.stays.forEach(function (s) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = s.href;
          a.textContent = s.name + " · " + s.price;
          li.appendChild(a);
          content.appendChild(li);
        });
      }
      L.popup({ offset: [0, -12] }).setLatLng(group.at).setContent(content).openOn(m);
      var list = document.querySelector(".results .list");
      if (list && list.offsetParent !== null) group.stays[0].li.scrollIntoView({ block: "nearest" });
      if (focus) (content.querySelector("a") || content).focus();
    }

    function choose(group, byKeyboard) {
      if (group.stays.length > 1 && m.getZoom() < m.getMaxZoom()) {
        // Zoom to the merged stays; by keyboard, focus follows the first of them.
        if (byKeyboard) refocus = group.stays[0];
        var b = L.latLngBounds(group.stays.map(function (s) { return s.at; }));
        if (b.getNorthEast().equals(b.getSouthWest())) m.setView(b.getCenter(), m.getZoom() + 2);
        else m.fitBounds(b, { padding: [MERGE_X, MERGE_X], maxZoom: m.getMaxZoom() });
        return;
      }
      openStays(group, byKeyboard);
    }

    function draw(group) {
      var one = group.stays.length === 1;
      var cheapest = group.stays.reduce(function (a, s) { return s.amount < a.amount ? s : a; });
      var pin = document.createElement("span");
      pin.className = one ? "pin" : "pin group";
      pin.textContent = one ? group.stays[0].label : tf("{} stays", group.stays.length);
      var marker = L.marker(group.at, {
        icon: L.divIcon({ className: "pin-at", html: pin, iconSize: null }),
        keyboard: false,
        riseOnHover: true,
      });
      group.marker = marker;
      marker.on("click", function () { choose(group, false); });
      marker.addTo(layer);
      var el = marker.getElement();
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      el.setAttribute("aria-label", one
        ? group.stays[0].name + ", " + group.stays[0].price
        : tf("{} stays from {}, zoom in", group.stays.length, cheapest.price));
      el.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          e.stopPropagation();
          choose(group, true);
        }
      });
      ["mouseenter", "focus"].forEach(function (t) { el.addEventListener(t, function () { light(group, true); }); });
      ["mouseleave", "blur"].forEach(function (t) { el.addEventListener(t, function () { light(group, false); }); });
    }

    // Greedy merging in pixels at the current zoom: each stay joins the first marker whose
    // label it would overlap, else starts its own. The cheapest stays claim places first.
    function cluster() {
      layer.clearLayers();
      groups = [];
      var z = m.getZoom();
      stays.slice().sort(function (a, b) { return a.amount - b.amount; }).forEach(function (s) {
        var p = m.project(s.at, z), g = null;
        for (var i = 0; i < groups.length && !g; i++) {
          if (Math.abs(groups[i].p.x - p.x) < MERGE_X && Math.abs(groups[i].p.y - p.y) < MERGE_Y) g = groups[i];
        }
        if (!g) { g = { p: p, stays: [] }; groups.push(g); }
        g.stays.push(s);
        s.group = g;
      });
      groups.forEach(function (g) {
        var lat = 0, lon = 0;
        g.stays.forEach(function (s) { lat += s.at.lat; lon += s.at.lng; });
        g.at = L.latLng(lat / g.stays.length, lon / g.stays.length);
        draw(g);
      });
      box.setAttribute("data-zoom", String(z));
      if (refocus && refocus.group) {
        var el = refocus.group.marker.getElement();
        refocus = null;
        if (el) el.focus();
      }
    }

    stays.forEach(function (s) {
      ["mouseenter", "focusin"].forEach(function (t) { s.li.addEventListener(t, function () { if (s.group) light(s.group, true); }); });
      ["mouseleave", "focusout"].forEach(function (t) { s.li.addEventListener(t, function () { if (s.group) light(s.group, false); }); });
    });

    var bounds = L.latLngBounds(stays.map(function (s) { return s.at; }));
    var closest = box.getAttribute("data-tiles") ? 16 : 13;
    function fit() {
      if (stays.length === 1) m.setView(stays[0].at, closest, { animate: false });
      else m.fitBounds(bounds, { padding: [48, 24], maxZoom: closest, animate: false });
    }
    fit();
    cluster();
    m.on("zoomend", cluster);

    // Once the guest moves the map, offer the search for what it shows.
    var area = document.createElement("button");
    area.type = "button";
    area.className = "area primary";
    area.textContent = t("Search this area");
    area.hidden = true;
    box.parentNode.insertBefore(area, box);
    // Moves the page makes (a resized window, showing the map on a phone) do not count.
    var quiet = false;
    function moved() { if (!quiet) area.hidden = false; }
    m.on("dragend zoomend", moved);
    m.on("moveend", function () { if (document.activeElement === box) moved(); });
    area.addEventListener("click", function () {
      var b = m.getBounds(), round = function (x) { return Math.round(x * 1e5) / 1e5; };
      var lat = function (x) { return round(Math.max(-90, Math.min(90, x))); };
      var lon = function (x) { return round(Math.max(-180, Math.min(180, x))); };
      var q = new URLSearchParams(window.location.search);
      // south,west,north,east: the order GET /api/v1/search takes.
      q.set("bbox", [lat(b.getSouth()), lon(b.getWest()), lat(b.getNorth()), lon(b.getEast())].join(","));
      window.location.assign("/stays?" + q.toString());
    });

    toggle(function () {
      // A map drawn while hidden has no size: measure it again and show the results.
      quiet = true;
      m.invalidateSize({ pan: false });
      if (area.hidden) fit();
      quiet = false;
    });
  }

  // On a phone the list comes first; a button switches between the list and the map.
  function toggle(shown) {
    var results = document.querySelector(".results");
    var list = results && results.querySelector(".list"), mapView = results && results.querySelector(".map");
    if (!list || !mapView) return;
    mapView.id = mapView.id || "results-map";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "view-toggle primary";
    button.setAttribute("aria-controls", mapView.id);
    function show(onMap) {
      results.classList.toggle("show-map", onMap);
      button.textContent = onMap ? t("Show list") : t("Show map");
      if (onMap) shown();
    }
    button.addEventListener("click", function () { show(!results.classList.contains("show-map")); });
    results.insertBefore(button, results.firstChild);
    results.classList.add("toggles");
    show(false);
  }

  // Check-out follows check-in: when check-in moves to or past it, check-out keeps the
  // stay's length (one night if there was none). Neither date can be before today.
  function dates() {
    var ci = document.getElementById("check_in"), co = document.getElementById("check_out");
    if (!ci || !co || ci.type !== "date" || co.type !== "date") return;
    var DAY = 86400000;
    function day(v) { var t = Date.parse(v + "T00:00:00Z"); return isNaN(t) ? null : Math.round(t / DAY); }
    function iso(n) { return new Date(n * DAY).toISOString().slice(0, 10); }
    var now = new Date();
    var today = Math.round(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / DAY);
    var a = day(ci.value), b = day(co.value);
    var nights = a !== null && b !== null && b > a ? b - a : 1;
    ci.min = iso(today);
    co.min = iso((a !== null && a >= today ? a : today) + 1);
    ci.addEventListener("change", function () {
      var a = day(ci.value), b = day(co.value);
      if (a === null) return;
      co.min = iso(a + 1);
      if (b === null || b <= a) co.value = iso(a + nights);
    });
    co.addEventListener("change", function () {
      var a = day(ci.value), b = day(co.value);
      if (a !== null && b !== null && b > a) nights = b - a;
    });
  }

  // Text for screen readers only (the CSS class `sr`).
  function hidden(text) {
    var span = document.createElement("span");
    span.className = "sr";
    span.textContent = text;
    return span;
  }

  // The host's calendar: click (or press Enter on) a first and a last night to fill the
  // range form below; arrow keys move between days. The form works without this.
  function calendarRange() {
    var table = document.querySelector("table.calendar");
    var from = document.getElementById("from"), to = document.getElementById("to");
    if (!table || !from || !to) return;
    var cells = Array.prototype.slice.call(table.querySelectorAll("td[data-date]:not(.past)"));
    if (!cells.length) return;
    var anchor = null;
    var status = document.createElement("p");
    status.className = "note pick-status";
    status.setAttribute("role", "status");
    status.textContent = t("Choose a first and a last night in the calendar, or type the dates below.");
    var wrap = table.closest(".table-wrap") || table;
    wrap.parentNode.insertBefore(status, wrap.nextSibling);
    var buttons = cells.map(function (td, i) {
      var date = td.getAttribute("data-date");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "pick";
      b.tabIndex = -1;
      while (td.firstChild) b.appendChild(td.firstChild);
      // The button is named by what it shows, with the weekday, month and year around the
      // day's number for screen readers: a name that contains the visible text (WCAG 2.5.3).
      var day = new Date(date + "T00:00:00Z");
      var said = function (options) { return day.toLocaleDateString("en-GB", Object.assign({ timeZone: "UTC" }, options)); };
      var number = b.querySelector(".d"), price = b.querySelector(".p");
      if (number) {
        b.insertBefore(hidden(said({ weekday: "long" }) + " "), number);
        b.insertBefore(hidden(" " + said({ month: "long", year: "numeric" }) + ": "), number.nextSibling);
      }
      if (price && price.textContent.trim()) b.insertBefore(hidden(", "), price.nextSibling);
      b.addEventListener("click", function () { pick(date); });
      b.addEventListener("keydown", function (e) {
        var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key];
        var next = e.key === "Home" ? 0 : e.key === "End" ? buttons.length - 1 : step === undefined ? null : i + step;
        if (next === null) return;
        e.preventDefault();
        move(Math.max(0, Math.min(buttons.length - 1, next)));
      });
      td.appendChild(b);
      return b;
    });
    function move(i) {
      buttons.forEach(function (b, j) { b.tabIndex = j === i ? 0 : -1; });
      buttons[i].focus();
    }
    function pick(date) {
      if (anchor === null) {
        anchor = date;
        from.value = date;
        to.value = date;
        status.textContent = tf("First night {}. Now choose the last night.", date);
      } else {
        from.value = anchor < date ? anchor : date;
        to.value = anchor < date ? date : anchor;
        anchor = null;
        status.textContent = tf("Nights {} to {} chosen: set the changes below and save.", from.value, to.value);
      }
      paint();
    }
    function paint() {
      var a = from.value, b = to.value;
      cells.forEach(function (td, i) {
        var d = td.getAttribute("data-date"), on = !!a && !!b && d >= a && d <= b;
        td.classList.toggle("sel", on);
        buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
      });
    }
    [from, to].forEach(function (f) { f.addEventListener("change", function () { anchor = null; paint(); }); });
    paint();
    var first = cells.findIndex(function (td) { return td.classList.contains("sel"); });
    buttons[first < 0 ? 0 : first].tabIndex = 0;
  }

  // The new-property form: a map whose pin sets the latitude and longitude fields (and
  // follows them when they are typed). Without JavaScript the fields are typed.
  function pin() {
    var box = document.getElementById("pin-map");
    var lat = document.getElementById("latitude"), lon = document.getElementById("longitude");
    if (!box || !lat || !lon || typeof L === "undefined") return;
    box.parentNode.hidden = false;
    var m = leafletMap(box);
    var marker = null;
    function typed() {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      return isNaN(a) || isNaN(b) || Math.abs(a) > 90 || Math.abs(b) > 180 ? null : L.latLng(a, b);
    }
    function place(at, fill) {
      if (!marker) {
        marker = L.marker(at, { draggable: true, keyboard: true, title: t("The property"), alt: t("The property’s pin") }).addTo(m);
        marker.on("dragend", function () { place(marker.getLatLng(), true); });
      } else {
        marker.setLatLng(at);
      }
      if (fill) {
        lat.value = at.lat.toFixed(5);
        lon.value = L.Util.wrapNum(at.lng, [-180, 180], true).toFixed(5);
      }
    }
    var start = typed();
    if (start) {
      m.setView(start, 13);
      place(start, false);
    } else {
      m.setView([30, 0], 2);
    }
    m.on("click", function (e) { place(e.latlng, true); });
    [lat, lon].forEach(function (input) {
      input.addEventListener("change", function () {
        var at = typed();
        if (at) { place(at, false); m.setView(at, Math.max(m.getZoom(), 12)); }
      });
    });
  }

  // An age field for each child, as the number of children changes (without this file the
  // page asks for the ages after the search is sent).
  function childAges() {
    document.querySelectorAll(".ages").forEach(function (box) {
      var form = box.closest("form");
      var count = form && form.querySelector("input[name=children]");
      if (!count) return;
      function fit() {
        var want = Math.max(0, Math.min(10, parseInt(count.value, 10) || 0));
        var have = box.querySelectorAll(".age");
        for (var i = have.length; i > want; i--) box.removeChild(have[i - 1]);
        for (var n = have.length + 1; n <= want; n++) {
          var row = document.createElement("div");
          row.className = "age";
          var label = document.createElement("label");
          var id = "age-" + (count.id || "c") + "-" + n;
          label.htmlFor = id;
          label.textContent = (box.getAttribute("data-age-label") || "Age of child {}").replace("{}", n);
          var select = document.createElement("select");
          select.id = id;
          select.name = "age";
          select.required = true;
          var none = document.createElement("option");
          none.value = "";
          none.textContent = box.getAttribute("data-age-choose") || "Age";
          select.appendChild(none);
          for (var a = 0; a < 18; a++) {
            var o = document.createElement("option");
            o.value = String(a);
            o.textContent = String(a);
            select.appendChild(o);
          }
          row.appendChild(label);
          row.appendChild(select);
          box.appendChild(row);
        }
      }
      count.addEventListener("input", fit);
      fit();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { countdown(); map(); pin(); dates(); calendarRange(); childAges(); });
})();
