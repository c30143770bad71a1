/* The desk's certificate verifier (portal/verifier.py): scans with the camera, verifies in
   the browser (VaxVerifier, certificates/browser/verifier.js), shows colour, name and date of
   birth. Nothing scanned leaves the device. Works offline once loaded (the service worker
   keeps the page, its scripts, the rules and the last trust list). */
(function () {
  "use strict";

  var byId = function (id) { return document.getElementById(id); };
  var say = JSON.parse(byId("verify-texts").textContent);
  var settings = JSON.parse(byId("verify-settings").textContent);
  var verdict = byId("verify-verdict");
  var video = byId("scan-video");
  var scanStatus = byId("scan-status");
  var trustStatus = byId("trust-status");

  /* the largest side of the square the decoder reads from each video frame (the centre of
     the view, where the frame is drawn): a certificate's QR has up to ~80 modules, 3 px
     each is plenty, and a smaller image decodes faster on a slow phone */
  var SCAN_SIDE = 480;
  /* a QR that stays in view is verified once; the same one shown again after this long out
     of view is verified again (the next person may hold the same certificate up twice) */
  var REPEAT_MS = 1000;
  var TRUST_REFRESH_MS = 3600 * 1000;

  var trust = null;
  var trustFromCache = false;
  var rules = null;
  var loaded = Promise.all([loadTrust(), loadRules()]);

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  async function fetchJson(url) {
    var answer = await fetch(url, { credentials: "same-origin" });
    if (!answer.ok) { throw new Error(url + ": " + answer.status); }
    return { body: await answer.json(), cached: answer.headers.get("X-Vax-Offline") === "1" };
  }

  async function loadTrust() {
    try {
      var got = await fetchJson(settings.trust);
      if (got.body && Array.isArray(got.body.keys)) {
        trust = got.body;
        trustFromCache = got.cached;
      }
    } catch (error) { /* keep the copy in hand, if any */ }
    showTrust();
  }

  async function loadRules() {
    try { rules = (await fetchJson(settings.rules)).body; } catch (error) { rules = null; }
  }

  function age(hours) {
    if (hours < 1) { return Math.max(1, Math.round(hours * 60)) + " " + say["unit.minute"]; }
    if (hours < 48) { return Math.round(hours) + " " + say["unit.hour"]; }
    return Math.round(hours / 24) + " " + say["unit.day"];
  }

  function ago(hours) {
    return hours < 1 / 60 ? say["unit.now"] : fill(say.ago, { span: age(hours) });
  }

  function when(date) {
    var locale = settings.lang === "en" ? "en-GB" : "vi-VN";
    return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
  }

  function trustState() {
    if (!trust) { return "missing"; }
    var hours = (Date.now() - Date.parse(trust.issued_at)) / 3600000;
    if (!(hours <= settings.staleHours)) { return "stale"; }
    return hours > settings.warnHours ? "ageing" : "fresh";
  }

  function showTrust() {
    var state = trustState();
    trustStatus.dataset.state = state;
    if (state === "missing") {
      trustStatus.textContent = say["trust.missing"];
      return;
    }
    var issued = new Date(trust.issued_at);
    var hours = (Date.now() - issued.getTime()) / 3600000;
    var stale = new Date(issued.getTime() + settings.staleHours * 3600000);
    var line = fill(say["trust.fresh"], {
      keys: trust.keys.length, when: when(issued), ago: ago(hours)
    });
    if (state !== "fresh") {
      line += " — " + fill(say["trust." + state], { age: age(hours), stale: when(stale) });
    }
    trustStatus.textContent = line + (trustFromCache ? " (" + say["trust.offline"] + ")" : "");
  }

  /* -- the verdict: colour, name and date of birth; never the doses -------------------- */

  function row(list, label, value) {
    var term = document.createElement("dt");
    term.textContent = label;
    var description = document.createElement("dd");
    description.textContent = value;
    list.append(term, description);
    return description;
  }

  function holder(payload) {
    var name = (payload && payload.nam) || {};
    var parts = [name.fn, name.gn].filter(function (part) { return part; });
    return parts.length ? parts.join(" ") : [name.fnt, name.gnt].filter(Boolean).join(" ");
  }

  function show(result) {
    var status = result.valid ? (result.status || "none") : "invalid";
    verdict.replaceChildren();
    verdict.dataset.status = status;
    verdict.dataset.stage = result.valid ? "" : (result.failed_stage || "");
    var title = document.createElement("h2");
    title.className = "verdict-title";
    title.textContent = say["status." + status];
    verdict.append(title);
    if (!result.valid) {
      var failed = document.createElement("p");
      failed.className = "verdict-stage";
      failed.textContent = say.failed + ": " + say["stage." + (result.failed_stage || "prefix")];
      verdict.append(failed);
      if (result.reason) {
        var reason = document.createElement("p");
        reason.className = "verdict-reason";
        reason.textContent = result.reason;
        verdict.append(reason);
      }
    } else {
      if (status === "green" || status === "yellow") {
        var meaning = document.createElement("p");
        meaning.className = "verdict-meaning";
        meaning.textContent = say["meaning." + status] +
          (result.boosters ? " + " + result.boosters + " " + say.boosters : "");
        verdict.append(meaning);
      }
      var facts = document.createElement("dl");
      facts.className = "verdict-facts";
      row(facts, say.name, holder(result.payload)).id = "verify-name";
      row(facts, say.dob, String((result.payload && result.payload.dob) || "")).id = "verify-dob";
      verdict.append(facts);
    }
    var state = trustState();
    if (state === "ageing" || state === "stale") {
      var warning = document.createElement("p");
      warning.className = "verdict-trust";
      warning.textContent = trustStatus.textContent;
      verdict.append(warning);
    }
    verdict.dataset.shownAt = String(performance.now());
    if (verdict.scrollIntoView) { verdict.scrollIntoView({ block: "nearest" }); }
  }

  function unreadable(reason) {
    var stages = {};
    (window.VaxVerifier ? window.VaxVerifier.STAGES : ["qr"]).forEach(function (stage) {
      stages[stage] = null;
    });
    stages.qr = false;
    return { valid: false, status: null, stages: stages, failed_stage: "qr", reason: reason };
  }

  async function verify(text) {
    await loaded;
    if (!window.VaxVerifier || !window.DecompressionStream || !window.crypto.subtle) {
      scanStatus.textContent = say.no_verifier;
      return null;
    }
    return window.VaxVerifier.verifyText(text, {
      trust: trust || { keys: [] }, rules: rules, now: new Date()
    });
  }

  /* -- decoding a QR from pixels ---------------------------------------------------------- */

  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var detector = null;
  if ("BarcodeDetector" in window) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") >= 0) {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      }
    }).catch(function () { detector = null; });
  }

  /* the text of a QR in (part of) an image or video frame: the square of side `side` at
     (x, y) of `source`, read at most `most` pixels wide */
  function decodeRegion(source, x, y, side, most, invert) {
    var size = Math.max(1, Math.round(Math.min(most, side)));
    canvas.width = size;
    canvas.height = size;
    context.drawImage(source, x, y, side, side, 0, 0, size, size);
    var pixels = context.getImageData(0, 0, size, size);
    var found = window.jsQR(pixels.data, size, size, {
      inversionAttempts: invert ? "attemptBoth" : "dontInvert"
    });
    return found ? found.data : null;
  }

  async function decodeFrame() {
    if (detector) {
      var codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }
    if (!window.jsQR) { return null; }
    var width = video.videoWidth, height = video.videoHeight;
    var side = Math.min(width, height);
    return decodeRegion(video, (width - side) / 2, (height - side) / 2, side, SCAN_SIDE, false);
  }

  async function decodeImage(file) {
    var image = await createImageBitmap(file);
    try {
      if (detector) {
        var codes = await detector.detect(image);
        if (codes.length) { return codes[0].rawValue; }
      }
      if (!window.jsQR) { return null; }
      /* the whole picture, at two sizes (a photo's QR may be small or huge) */
      var longest = Math.max(image.width, image.height);
      for (var most of [1200, 600]) {
        var scale = Math.min(1, most / longest);
        var width = Math.max(1, Math.round(image.width * scale));
        var height = Math.max(1, Math.round(image.height * scale));
        canvas.width = width;
        canvas.height = height;
        context.fillStyle = "#fff";
        context.fillRect(0, 0, width, height);
        context.drawImage(image, 0, 0, width, height);
        var found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height, {
          inversionAttempts: "attemptBoth"
        });
        if (found) { return found.data; }
      }
      return null;
    } finally {
      image.close();
    }
  }

  /* -- the camera ------------------------------------------------------------------------- */

  var stream = null;
  var scanning = false;
  var busy = false;
  var last = { text: null, at: 0 };

  async function startCamera() {
    if (scanning) { return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      scanStatus.textContent = say["camera.none"];
      return;
    }
    if (!detector && !window.jsQR) {
      scanStatus.textContent = say.no_decoder;
      return;
    }
    scanStatus.textContent = say["camera.starting"];
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 },
                 height: { ideal: 720 } }
      });
    } catch (error) {
      scanStatus.textContent = error && error.name === "NotAllowedError"
        ? say["camera.denied"] : say["camera.none"];
      return;
    }
    video.srcObject = stream;
    byId("scan-view").hidden = false;
    byId("scan-stop").hidden = false;
    byId("scan-camera").hidden = true;
    await video.play().catch(function () {});
    var track = stream.getVideoTracks()[0];
    var capabilities = track && track.getCapabilities ? track.getCapabilities() : {};
    byId("scan-torch").hidden = !capabilities.torch;
    scanning = true;
    scanStatus.textContent = say["camera.scanning"];
    next();
  }

  function stopCamera() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    byId("scan-view").hidden = true;
    byId("scan-stop").hidden = true;
    byId("scan-torch").hidden = true;
    byId("scan-camera").hidden = false;
    scanStatus.textContent = say["camera.stopped"];
  }

  async function toggleTorch() {
    var track = stream && stream.getVideoTracks()[0];
    if (!track) { return; }
    var button = byId("scan-torch");
    var on = button.getAttribute("aria-pressed") !== "true";
    try {
      await track.applyConstraints({ advanced: [{ torch: on }] });
      button.setAttribute("aria-pressed", String(on));
    } catch (error) { button.hidden = true; }
  }

  /* one decode at a time, on the next frame the camera delivers */
  function next() {
    if (!scanning) { return; }
    if (video.requestVideoFrameCallback) {
      video.requestVideoFrameCallback(tick);
    } else {
      requestAnimationFrame(tick);
    }
  }

  async function tick() {
    if (!scanning) { return; }
    if (!busy && video.readyState >= 2 && video.videoWidth) {
      busy = true;
      try {
        var text = await decodeFrame();
        var now = performance.now();
        if (text && (text !== last.text || now - last.at > REPEAT_MS)) {
          last = { text: text, at: now };
          var result = await verify(text);
          if (result) {
            result.stages.qr = true;
            show(result);
            if (navigator.vibrate) { navigator.vibrate(result.valid ? 80 : [60, 60, 60]); }
          }
        } else if (text) {
          last.at = now;
        }
      } catch (error) {
        scanStatus.textContent = String(error);
      } finally {
        busy = false;
      }
    }
    next();
  }

  /* -- paste and upload ------------------------------------------------------------------- */

  async function verifyPasted() {
    var text = byId("verify-text").value.trim();
    if (!text) {
      scanStatus.textContent = say.empty;
      return;
    }
    var result = await verify(text);
    if (result) { show(result); }
  }

  async function verifyUpload(event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    var text = null;
    try { text = await decodeImage(file); } catch (error) { text = null; }
    if (!text) {
      show(unreadable(say.no_qr));
      return;
    }
    var result = await verify(text);
    if (result) {
      result.stages.qr = true;
      show(result);
    }
  }

  byId("scan-camera").addEventListener("click", startCamera);
  byId("scan-stop").addEventListener("click", stopCamera);
  byId("scan-torch").addEventListener("click", toggleTorch);
  byId("verify-button").addEventListener("click", verifyPasted);
  byId("verify-upload").addEventListener("change", verifyUpload);
  window.addEventListener("online", loadTrust);
  setInterval(function () { if (navigator.onLine) { loadTrust(); } else { showTrust(); } },
              TRUST_REFRESH_MS);
  setInterval(showTrust, 60000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(settings.worker, { scope: settings.scope })
      .catch(function () { /* the page works online without it */ });
  }
})();
