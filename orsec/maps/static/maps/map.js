/*
 * Portail ORSEC — the maps (Leaflet, vendored), see docs/map.md.
 *
 * Each [data-map] element is a map; its data (an RFC 7946 FeatureCollection of the event and the
 * reports, or of the watch room's events) is the JSON data block whose id is in data-map-data
 * (<script type="application/json">: never executed, so allowed by the CSP). The département
 * outlines, which do not change, are fetched once (data-boundaries-url, cached by the browser).
 *
 * Live: the panel holding the map is re-rendered by the live channel; live.js swaps it and then
 * dispatches "orsec:live-swap" on its root. We do NOT recreate the map: the Leaflet container
 * node is kept, put back in place of the freshly swapped placeholder with the same id, and the
 * layers are updated in place from the new data block (no request: no herd of wall screens).
 *
 * No inline script or style attribute: positions are set by Leaflet through the CSSOM (allowed
 * by style-src 'self'), colours come from map.css classes, popups are built as DOM nodes.
 */
(function () {
  "use strict";

  if (!window.L) {
    return;
  }
  var L = window.L;
  var maps = {};
  var FRANCE = [46.6, 2.4];

  function readData(id) {
    var block = id ? document.getElementById(id) : null;
    if (!block) {
      return null;
    }
    try {
      return JSON.parse(block.textContent);
    } catch (e) {
      return null;
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function popupFor(state, props) {
    var box = el("div", "orsec-map-popup");
    if (props.kind === "event") {
      box.appendChild(
        el("p", "orsec-map-popup__title", (props.mode_marker ? props.mode_marker + " — " : "") + props.title)
      );
      box.appendChild(el("p", "", props.event_type_label + " · " + props.phase_label + " · G" + props.gravity));
    } else {
      box.appendChild(
        el(
          "p",
          "orsec-map-popup__title",
          (props.mode_marker ? props.mode_marker + " — " : "") + props.template_label + " : " + props.state_label
        )
      );
      if (props.summary) {
        box.appendChild(el("p", "", props.summary));
      }
      if (props.occurred_at) {
        box.appendChild(el("p", "", props.occurred_at));
      }
    }
    if (props.url) {
      var link = el("a", "", state.container.getAttribute("data-text-open") || "Ouvrir la fiche");
      link.href = props.url;
      box.appendChild(link);
    }
    return box;
  }

  function titleOf(state, props) {
    if (props.kind === "event") {
      return (state.container.getAttribute("data-text-event") || "Événement") + " : " + props.title;
    }
    return props.template_label + " — " + props.state_label + (props.occurred_at ? " — " + props.occurred_at : "");
  }

  function iconFor(props) {
    var inner = el("span", "orsec-map-marker__symbol", props.kind === "event" ? "★" : props.symbol || "?");
    var kind = props.kind === "event" ? "event" : props.state;
    var extra = props.mode && props.mode !== "real" ? " orsec-map-marker--exercise" : "";
    return L.divIcon({
      className: "orsec-map-marker orsec-map-marker--" + kind + extra,
      html: inner,
      iconSize: props.kind === "event" ? [28, 28] : [22, 22],
    });
  }

  function layerFor(state, feature) {
    var props = feature.properties || {};
    var kind = props.kind === "event" ? "event" : props.state;
    var layer = L.geoJSON(feature, {
      pointToLayer: function (f, latlng) {
        return L.marker(latlng, {
          icon: iconFor(props),
          title: titleOf(state, props),
          alt: titleOf(state, props),
          keyboard: true,
          riseOnHover: true,
          zIndexOffset: props.kind === "event" ? -1000 : 0, // reports above the event
        });
      },
      style: function () {
        return { className: "orsec-map-area orsec-map-area--" + kind };
      },
    });
    layer.bindPopup(function () {
      return popupFor(state, props);
    });
    return layer;
  }

  function signature(feature) {
    return JSON.stringify([feature.geometry, feature.properties]);
  }

  function update(state, collection) {
    if (!collection || !collection.features) {
      return;
    }
    var seen = {};
    collection.features.forEach(function (feature) {
      if (!feature.geometry) {
        return;
      }
      var key = String(feature.id);
      var sig = signature(feature);
      seen[key] = true;
      var current = state.features[key];
      if (current && current.sig === sig) {
        return;
      }
      if (current) {
        state.group.removeLayer(current.layer);
      }
      var layer = layerFor(state, feature);
      state.group.addLayer(layer);
      state.features[key] = { sig: sig, layer: layer };
    });
    Object.keys(state.features).forEach(function (key) {
      if (!seen[key]) {
        state.group.removeLayer(state.features[key].layer);
        delete state.features[key];
      }
    });
    state.container.setAttribute("data-map-features", String(Object.keys(state.features).length));
  }

  function fit(state) {
    var bounds = L.latLngBounds([]);
    if (state.outlines) {
      bounds.extend(state.outlines.getBounds());
    }
    if (state.group.getLayers().length) {
      bounds.extend(state.group.getBounds());
    }
    if (bounds.isValid()) {
      state.map.fitBounds(bounds, { padding: [12, 12], maxZoom: 12 });
    }
  }

  function loadOutlines(state) {
    var url = state.container.getAttribute("data-boundaries-url");
    if (!url || !window.fetch) {
      return;
    }
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (collection) {
        if (!collection) {
          return;
        }
        state.outlines = L.geoJSON(collection, {
          interactive: false,
          attribution: state.container.getAttribute("data-boundaries-attribution") || "",
          style: function () {
            return { className: "orsec-map-boundary" };
          },
        });
        state.outlines.addTo(state.map);
        state.outlines.bringToBack();
        state.container.setAttribute("data-map-outlines", String(collection.features.length));
        if (!state.userMoved) {
          fit(state);
        }
      })
      .catch(function () {
        /* the map works without the outlines */
      });
  }

  function init(container) {
    var map = L.map(container, { scrollWheelZoom: false, zoomSnap: 0.5 }).setView(FRANCE, 5);
    var state = {
      id: container.id,
      container: container,
      map: map,
      group: L.featureGroup().addTo(map),
      features: {},
      outlines: null,
      userMoved: false,
      details: null,
    };
    var tiles = container.getAttribute("data-tile-url");
    if (tiles) {
      L.tileLayer(tiles, {
        attribution: container.getAttribute("data-tile-attribution") || "",
        maxZoom: 19,
      }).addTo(map);
    } else {
      container.classList.add("orsec-map--no-tiles");
    }
    update(state, readData(container.getAttribute("data-map-data")));
    fit(state);
    // once the user pans or zooms, the late outlines do not re-fit the view
    map.on("dragstart", function () {
      state.userMoved = true;
    });
    container.addEventListener("keydown", function () {
      state.userMoved = true;
    });
    container.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest(".leaflet-control-zoom")) {
        state.userMoved = true;
      }
    });
    loadOutlines(state);
    container.setAttribute("data-map-ready", "true");
    maps[container.id] = state;
    trackDetails(state);
  }

  // The <details> list under the map is part of the swapped panel: keep it open if it was.
  function trackDetails(state) {
    var details = document.querySelector("[data-map-details='" + state.id + "']");
    if (details) {
      if (state.details !== null) {
        details.open = state.details;
      }
      details.addEventListener("toggle", function () {
        state.details = details.open;
      });
    }
  }

  function scan() {
    var containers = document.querySelectorAll("[data-map]");
    for (var i = 0; i < containers.length; i++) {
      var container = containers[i];
      var state = maps[container.id];
      if (!state) {
        init(container);
      } else if (state.container !== container) {
        // the panel was re-rendered: keep our Leaflet container instead of the new placeholder
        ["aria-label", "data-map-data"].forEach(function (name) {
          var value = container.getAttribute(name);
          if (value !== null) {
            state.container.setAttribute(name, value);
          }
        });
        container.replaceWith(state.container);
        state.map.invalidateSize();
        update(state, readData(state.container.getAttribute("data-map-data")));
        trackDetails(state);
      } else {
        update(state, readData(container.getAttribute("data-map-data")));
      }
    }
  }

  var root = document.querySelector("[data-live-url]");
  if (root) {
    root.addEventListener("orsec:live-swap", scan);
  }
  window.orsecMaps = {
    featureCount: function (id) {
      var state = maps[id];
      return state ? Object.keys(state.features).length : -1;
    },
    refresh: scan,
  };
  scan();
})();
