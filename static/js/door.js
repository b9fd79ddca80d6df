// The door page's camera scanner: progressive enhancement of the code form.
// Without JavaScript (or a camera) the usher types the booking code and gets a page back.
// With it, the camera reads each ticket's QR code (BarcodeDetector where the browser has
// it, the vendored jsQR otherwise), the page asks POST /api/v1/checkin and shows the answer
// full screen: green to admit, red if already admitted, amber for the wrong showtime.
(function () {
  "use strict";
  var door = document.getElementById("door");
  if (!door) { return; }
  var showtimeId = door.getAttribute("data-showtime");
  var form = document.getElementById("door-form");
  var result = document.getElementById("door-result");
  var scanButton = document.getElementById("door-scan");
  var cameraBox = document.getElementById("door-camera");
  var video = document.getElementById("door-video");
  var cameraStatus = document.getElementById("door-camera-status");
  var admitted = document.getElementById("door-admitted");
  if (!showtimeId || !form || !result) { return; }

  var busy = false;
  var lastText = "";
  var lastAt = 0;
  var detector = null;
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });

  var timeZone = door.getAttribute("data-timezone") || undefined;

  // "6:02 PM" in the theatre's time zone, as the page without JavaScript says it (the
  // browser's locale would say "6:02 pm" or put a narrow space before the period).
  function clock(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timeZone, hour: "numeric", minute: "2-digit", hour12: true })
        .formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    } catch (e) {
      var h = d.getHours();
      parts = { hour: String(((h + 11) % 12) + 1), minute: (d.getMinutes() < 10 ? "0" : "") + d.getMinutes(), dayPeriod: h < 12 ? "AM" : "PM" };
    }
    return parts.hour + ":" + parts.minute + " " + String(parts.dayPeriod || "").toUpperCase();
  }

  function show(tone, headline, detail, undoId) {
    result.hidden = false;
    result.className = "door-result door-" + tone;
    result.textContent = "";
    var h = document.createElement("p");
    h.className = "door-headline";
    h.textContent = headline;
    result.appendChild(h);
    if (detail) {
      var p = document.createElement("p");
      p.className = "door-detail";
      p.textContent = detail;
      result.appendChild(p);
    }
    if (undoId) {
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "btn btn-secondary btn-door";
      undo.textContent = "Undo";
      undo.addEventListener("click", function () { undoAdmission(undoId, undo); });
      result.appendChild(undo);
    }
  }

  function bump(by) {
    if (admitted) { admitted.textContent = String(Math.max(0, parseInt(admitted.textContent, 10) + by)); }
  }

  function answer(status, body) {
    var b = body.booking || {};
    if (status === 200) {
      show("ok", "Admit " + (b.seats || []).length + " — " + (b.seats || []).join(", "),
        b.code + " · " + b.movie_title + " · " + b.screen, body.admission_id);
      bump(1);
    } else if (status === 409) {
      show("bad", "Already admitted " + clock(body.admitted_at) + " by " + body.admitted_by,
        (b.code || "") + (b.seats ? " · seats " + b.seats.join(", ") : ""));
    } else if (body.error === "wrong_showtime") {
      show("warn", "Wrong showtime: this ticket is for " + clock(body.showtime.starts_at) + ", " + body.showtime.screen, body.message);
    } else if (body.error === "invalid_ticket") {
      show("bad", "Not a valid ticket", "Check the code, or ask for the booking confirmation.");
    } else {
      show("warn", body.message || "The ticket could not be checked.", "");
    }
  }

  function check(payload) {
    if (busy) { return; }
    busy = true;
    payload.showtime_id = parseInt(showtimeId, 10);
    fetch("/api/v1/checkin", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (body) { answer(response.status, body); });
    }).catch(function () {
      show("warn", "No connection", "Type the code and press Check ticket, or try again.");
    }).then(function () { busy = false; });
  }

  function undoAdmission(id, button) {
    button.disabled = true;
    fetch("/api/v1/checkin/" + encodeURIComponent(id) + "/undo", {
      method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) { show("warn", "Undone", "The ticket can be scanned again."); bump(-1); }
        else { show("warn", body.message || "Could not undo.", ""); }
      });
    });
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[name=code]");
    var text = input.value.trim();
    if (!text) { return; }
    event.preventDefault();
    check(text.indexOf("MB1.") === 0 ? { token: text } : { code: text });
    input.value = "";
    input.focus();
  });

  function seen(text) {
    var now = Date.now();
    // One ticket held in front of the camera is one scan, not ten.
    if (text === lastText && now - lastAt < 4000) { return; }
    lastText = text;
    lastAt = now;
    check(text.indexOf("MB1.") === 0 ? { token: text } : { code: text });
  }

  function frame() {
    if (video.readyState >= 2 && !busy) {
      if (detector) {
        detector.detect(video).then(function (codes) {
          if (codes.length) { seen(codes[0].rawValue); }
        }).catch(function () {});
      } else if (window.jsQR && context) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "dontInvert" });
        if (code && code.data) { seen(code.data); }
      }
    }
    window.setTimeout(frame, 200);
  }

  function start() {
    scanButton.hidden = true;
    cameraBox.hidden = false;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        return video.play();
      })
      .then(function () {
        if ("BarcodeDetector" in window) {
          try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
        }
        cameraStatus.textContent = "Point the camera at the ticket's QR code.";
        frame();
      })
      .catch(function () {
        cameraStatus.textContent = "The camera is not available: type the booking code instead.";
      });
  }

  if (scanButton && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    scanButton.hidden = false;
    scanButton.addEventListener("click", start);
  }
})();
