// Progressive enhancement for every page. Everything here is optional: pages work
// without it. No dependencies, no eval, no inline handlers (the CSP forbids them).
// Seat-map behaviour lives in its own file.
(function () {
  "use strict";

  // 1. Confirmation: `data-confirm="Cancel this booking?"` on a form or on the
  //    button that submits it. Runs in the capture phase so a "no" stops the
  //    submission before any other listener sees it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var holder = submitter && submitter.hasAttribute("data-confirm") ? submitter
      : form.hasAttribute("data-confirm") ? form : null;
    if (holder && !window.confirm(holder.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // 2. No double submits: once a POST form really submits (no listener cancelled
  //    it), its submit buttons are disabled. GET forms (search, filters) are left
  //    alone, and a safety timer re-enables buttons in case the response was a
  //    download that never left the page.
  var BUSY = "data-busy";
  function release(button) {
    button.disabled = false;
    button.removeAttribute(BUSY);
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.target && form.target !== "_self") return;
    // Decide after every listener has run: a script may have taken over (fetch).
    window.setTimeout(function () {
      if (event.defaultPrevented) return;
      var buttons = form.querySelectorAll("button:not([type=button]):not([type=reset]), input[type=submit]");
      if (form.id) {
        buttons = Array.prototype.slice.call(buttons).concat(
          Array.prototype.slice.call(document.querySelectorAll('[form="' + form.id + '"][type=submit]')));
      }
      Array.prototype.forEach.call(buttons, function (button) {
        if (button.disabled) return;
        button.disabled = true;
        button.setAttribute(BUSY, "");
      });
      window.setTimeout(function () {
        Array.prototype.forEach.call(document.querySelectorAll("[" + BUSY + "]"), release);
      }, 10000);
    }, 0);
  });
  // Coming back with the Back button restores the page from the cache as it was.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return; // the first load also fires pageshow
    Array.prototype.forEach.call(document.querySelectorAll("[" + BUSY + "]"), release);
  });

  // 3. Countdowns: `<span class="countdown" data-countdown data-deadline="..."
  //    data-expired-text="Hold expired">` where the deadline is ISO-8601 or Unix
  //    seconds. Shows mm:ss (h:mm:ss past an hour); under a minute the element gets
  //    `is-urgent`, at zero `is-expired`, the expired text, and a `countdown:expired`
  //    event that bubbles for other scripts.
  function parseDeadline(value) {
    value = (value || "").trim();
    if (/^\d+(\.\d+)?$/.test(value)) return parseFloat(value) * 1000;
    var ms = Date.parse(value);
    return isNaN(ms) ? null : ms;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    return (h > 0 ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
  }
  function startCountdown(el) {
    var deadline = parseDeadline(el.getAttribute("data-deadline"));
    if (deadline === null) return;
    function tick() {
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      if (left === 0) {
        el.textContent = el.getAttribute("data-expired-text") || "00:00";
        el.classList.remove("is-urgent");
        el.classList.add("is-expired");
        el.dispatchEvent(new CustomEvent("countdown:expired", { bubbles: true }));
        return;
      }
      el.textContent = format(left);
      el.classList.toggle("is-urgent", left <= 60);
      // Wake up just after the next whole second so the display never skips one.
      window.setTimeout(tick, ((deadline - Date.now()) % 1000) + 20);
    }
    tick();
  }
  // 4. A seat map wider than a phone starts scrolled to its middle, where the
  //    screen and the best seats are, instead of at its left edge.
  function centreSeatMap(map) {
    var overflow = map.scrollWidth - map.clientWidth;
    if (overflow > 0 && map.scrollLeft === 0) map.scrollLeft = overflow / 2;
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), startCountdown);
    Array.prototype.forEach.call(document.querySelectorAll(".seat-map"), centreSeatMap);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
