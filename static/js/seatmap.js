// Seat map enhancement: a live total as seats are clicked, the seat limit, and seats taken
// by others appearing within a few seconds (polling the seats API). The page works without
// this file: the map is a plain form of checkboxes.
(function () {
  "use strict";
  var form = document.getElementById("seat-form");
  if (!form) return;
  var showtimeId = form.getAttribute("data-showtime");
  var max = parseInt(form.getAttribute("data-max"), 10) || 10;
  var countEl = document.getElementById("selection-count");
  var totalEl = document.getElementById("selection-total");
  var updatesEl = document.getElementById("seat-updates");
  var button = document.getElementById("hold-button");
  var holdDisabledByServer = button && button.disabled;

  function rupees(paise) {
    var r = Math.floor(paise / 100);
    var p = String(paise % 100).padStart(2, "0");
    return "\u20b9" + r.toLocaleString("en-IN") + "." + p;
  }

  function boxes() {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="seat_ids"]'));
  }

  function update() {
    var chosen = boxes().filter(function (b) { return b.checked; });
    var total = chosen.reduce(function (sum, b) { return sum + (parseInt(b.getAttribute("data-price"), 10) || 0); }, 0);
    if (chosen.length === 0) {
      countEl.textContent = "Choose your seats";
      totalEl.textContent = "";
    } else {
      countEl.textContent = chosen.length + (chosen.length === 1 ? " seat: " : " seats: ");
      totalEl.textContent = rupees(total) + " + fees";
    }
    boxes().forEach(function (b) {
      var label = b.closest(".seat");
      if (label) label.classList.toggle("seat-selected", b.checked);
    });
    if (button && !holdDisabledByServer) button.disabled = chosen.length === 0;
  }

  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name !== "seat_ids") return;
    var chosen = boxes().filter(function (b) { return b.checked; }).length;
    if (box.checked && chosen > max) {
      box.checked = false;
      updatesEl.textContent = "You can book up to " + max + " seats at a time.";
    }
    update();
  });

  function applyStatuses(seats) {
    var lost = [];
    seats.forEach(function (seat) {
      var label = form.querySelector('[data-seat="' + seat.id + '"]');
      if (!label) return;
      var box = label.querySelector("input");
      var taken = !seat.mine && seat.status !== "available";
      ["seat-available", "seat-held", "seat-booked", "seat-unavailable"].forEach(function (c) { label.classList.remove(c); });
      label.classList.add(seat.mine ? "seat-available" : "seat-" + seat.status);
      if (taken) {
        if (box.checked) lost.push(seat.label);
        box.checked = false;
        box.disabled = true;
        box.setAttribute("aria-label", box.getAttribute("aria-label").replace(/, (available|held by you)$/, ", " + (seat.status === "booked" ? "booked" : "held by someone else")));
      } else if (seat.status === "available" || seat.mine) {
        box.disabled = false;
        box.setAttribute("aria-label", box.getAttribute("aria-label").replace(/, (held by someone else|booked)$/, ", available"));
      }
    });
    if (lost.length) {
      updatesEl.textContent = "Seat " + lost.join(", ") + " was just taken by someone else and removed from your selection.";
    }
    update();
  }

  function poll() {
    if (document.hidden) return;
    fetch("/api/v1/showtimes/" + encodeURIComponent(showtimeId) + "/seats", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.seats) applyStatuses(data.seats); })
      .catch(function () { /* offline for a moment: try again next tick */ });
  }

  update();
  setInterval(poll, 4000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
})();
