/*
 * Portail ORSEC — live updates of a page (Server-Sent Events), see docs/live.md.
 *
 * The page marks its live root with data-live-url (the stream) and data-live-after (the id of
 * the last outbox message the page reflects). This client:
 *  - opens the stream after that id (?after=, since EventSource only sends Last-Event-ID on its
 *    own reconnections, and we reconnect ourselves);
 *  - applies "swap" messages (replace/inner/prepend/append/remove of elements by id), which are
 *    idempotent, and remembers the id of each message applied;
 *  - reconnects with capped exponential backoff and jitter (a thousand wall screens must not come
 *    back in the same second), and when nothing (not even the heartbeat ping) arrived for 50 s;
 *  - reloads the page on "reload" (after a random delay), stops on "denied";
 *  - shows the state in the element [data-live-status] (polite live region).
 * No inline script, no eval: CSP-compatible (the file is loaded with the page's nonce).
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-url]");
  if (!root || !window.EventSource) {
    return;
  }
  var url = root.getAttribute("data-live-url");
  var cursor = parseInt(root.getAttribute("data-live-after") || "0", 10) || 0;
  var csrf = root.getAttribute("data-csrf") || "";
  var status = document.querySelector("[data-live-status]");
  var source = null;
  var attempts = 0;
  var watchdog = null;
  var timer = null;
  var stopped = false;
  var SILENCE_MS = 50000;

  function say(state, text) {
    if (!status) {
      return;
    }
    status.setAttribute("data-state", state);
    status.textContent = text;
  }

  function jitter(ms) {
    return Math.round(ms * (0.5 + Math.random()));
  }

  function setCursor(id) {
    var n = parseInt(id, 10);
    if (n > cursor) {
      cursor = n;
      root.setAttribute("data-live-after", String(cursor));
    }
  }

  function addCsrf(container) {
    if (!csrf) {
      return;
    }
    var forms = container.querySelectorAll("form[method='post'], form[method='POST']");
    for (var i = 0; i < forms.length; i++) {
      if (!forms[i].querySelector("input[name='csrfmiddlewaretoken']")) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "csrfmiddlewaretoken";
        input.value = csrf;
        forms[i].appendChild(input);
      }
    }
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    addCsrf(template.content);
    return template.content;
  }

  function applySwap(swap) {
    var target = document.getElementById(swap.target);
    if (swap.mode === "remove") {
      if (target) {
        target.remove();
      }
      return;
    }
    if (!target) {
      return;
    }
    var content = fragment(swap.html || "");
    if (swap.mode === "replace") {
      target.replaceWith(content);
    } else if (swap.mode === "inner") {
      target.replaceChildren(content);
    } else {
      // prepend / append: an element whose id already exists is replaced, not duplicated
      var nodes = Array.prototype.slice.call(content.children);
      if (swap.mode === "prepend") {
        nodes.reverse(); // the last node given ends first: keep the given order
      }
      nodes.forEach(function (node) {
        var existing = node.id ? document.getElementById(node.id) : null;
        if (existing) {
          existing.replaceWith(node);
        } else if (swap.mode === "prepend") {
          target.prepend(node);
        } else {
          target.append(node);
        }
      });
      var keep = parseInt(swap.keep, 10) || 0;
      while (keep && target.children.length > keep) {
        (swap.mode === "prepend" ? target.lastElementChild : target.firstElementChild).remove();
      }
    }
  }

  function onSwap(event) {
    var id = parseInt(event.lastEventId, 10) || 0;
    if (id && id <= cursor) {
      return; // already reflected (replayed twice across a reconnection)
    }
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    (data.swaps || []).forEach(applySwap);
    setCursor(id);
    root.dispatchEvent(new CustomEvent("orsec:live-swap", { detail: { id: id } }));
  }

  function arm() {
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(function () {
      reconnect();
    }, SILENCE_MS);
  }

  function close() {
    window.clearTimeout(watchdog);
    if (source) {
      source.close();
      source = null;
    }
  }

  function reconnect() {
    close();
    if (stopped) {
      return;
    }
    attempts += 1;
    var delay = jitter(Math.min(30000, 1000 * Math.pow(2, Math.min(attempts, 5))));
    say("reconnecting", root.getAttribute("data-text-reconnecting") || "Reconnexion…");
    window.clearTimeout(timer);
    timer = window.setTimeout(open, delay);
  }

  function open() {
    if (stopped) {
      return;
    }
    var separator = url.indexOf("?") === -1 ? "?" : "&";
    source = new EventSource(url + separator + "after=" + encodeURIComponent(String(cursor)));
    source.onopen = function () {
      attempts = 0;
      arm();
      say("live", root.getAttribute("data-text-live") || "En direct");
    };
    source.onerror = function () {
      // EventSource's own reconnection would lose our cursor and has no jitter: take over.
      reconnect();
    };
    source.addEventListener("swap", function (event) {
      arm();
      onSwap(event);
    });
    source.addEventListener("ping", arm);
    source.addEventListener("reload", function () {
      stopped = true;
      close();
      say("reloading", root.getAttribute("data-text-reloading") || "Mise à jour de la page…");
      window.setTimeout(function () {
        window.location.reload();
      }, jitter(2000));
    });
    source.addEventListener("denied", function () {
      stopped = true;
      close();
      say("denied", root.getAttribute("data-text-denied") || "Accès terminé : rechargez la page.");
    });
  }

  // Tests and the benchmark read the state of the client from the page.
  window.orsecLive = {
    cursor: function () {
      return cursor;
    },
    reconnect: function () {
      reconnect();
    },
  };
  open();
})();
