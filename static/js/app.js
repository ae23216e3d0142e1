/* Quick exit, back/forward guard, practice, service worker. Why: docs/decisions.md. */
(function () {
  "use strict";
  var doc = document;
  var SHIFT_WINDOW = 5000, ESC_WINDOW = 2000;

  function bar() { return doc.querySelector("[data-exit-bar]"); }
  function practising() { return doc.body && doc.body.hasAttribute("data-practice"); }

  function announce(text) {
    var region = doc.getElementById("wp-announce");
    if (region) { region.textContent = ""; region.textContent = text; }
  }

  function cover() {
    var el = doc.getElementById("wp-cover");
    if (!el) {
      el = doc.createElement("div");
      el.id = "wp-cover";
      el.className = "wp-cover";
      doc.documentElement.appendChild(el);
    }
    el.hidden = false;
    doc.documentElement.classList.add("wp-exiting");
    return el;
  }

  function uncover() {
    var el = doc.getElementById("wp-cover");
    if (el) { el.hidden = true; }
    doc.documentElement.classList.remove("wp-exiting");
  }

  var leaving = false;

  function exitNow() {
    leaving = !practising();
    cover();
    var title = doc.title;
    doc.title = doc.body.getAttribute("data-away-title");
    if (practising()) {
      setTimeout(function () {
        doc.title = title;
        uncover();
        var result = doc.getElementById("practice-result");
        if (result) { result.hidden = false; result.focus(); }
      }, 1200);
      return;
    }
    var link = doc.getElementById("exit-now");
    var href = link ? link.getAttribute("href") : "/exit";
    try { sessionStorage.clear(); } catch (e) { /* off */ }
    try { localStorage.clear(); } catch (e) { /* off */ }
    try { navigator.sendBeacon && navigator.sendBeacon(href); } catch (e) { /**/ }
    if (navigator.onLine === false && !(navigator.serviceWorker && navigator.serviceWorker.controller)) {
      // Offline, no service worker: leave anyway; a bare flag ends the session once online.
      try { localStorage.setItem(OWED, "1"); } catch (e) { /* off */ }
      location.replace(destination(href));
      return;
    }
    location.replace(href);
  }

  var OWED = "wp-pending";

  // The destination in the link's ?to=BASE64URL.SIGNATURE (unchecked: offline only).
  function destination(href) {
    var match = /[?&]to=([A-Za-z0-9_-]{1,1000})\./.exec(href);
    if (match) {
      try {
        var code = match[1].replace(/-/g, "+").replace(/_/g, "/");
        var bytes = atob(code + "===".slice((code.length + 3) % 4));
        var text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes, function (c) { return c.charCodeAt(0); }));
        var url = new URL(text);
        if ((url.protocol === "https:" || url.protocol === "http:") && !url.username && !url.password) { return url.href; }
      } catch (e) { /**/ }
    }
    return "about:blank";
  }

  // An exit owed from offline: hide this page, end the session, reload.
  function payOwedExit() {
    var owed = false;
    try { owed = localStorage.getItem(OWED) === "1"; } catch (e) { /* off */ }
    if (!owed) { return; }
    leaving = true;
    cover();
    if (navigator.onLine === false) { return; } // the "online" event tries again
    fetch("/exit?owed=1", { method: "POST", credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (!response.ok) { return; }
      try { localStorage.removeItem(OWED); } catch (e) { /**/ }
      location.replace(location.href);
    }, function () { /* offline */ });
  }
  payOwedExit();
  window.addEventListener("online", payOwedExit);

  // Every click on Exit now (new-tab clicks too) leaves in this tab.
  function onExitClick(event) {
    var target = event.target.closest && event.target.closest("[data-exit], [data-practice-exit]");
    if (!target) { return; }
    if (target.hasAttribute("data-practice-exit") && !practising()) { return; }
    event.preventDefault();
    if (!target.hasAttribute("data-practice-exit")) {
      doc.body.removeAttribute("data-practice"); // the Exit now link is real even on the practice page
    }
    exitNow();
  }
  doc.addEventListener("click", onExitClick);
  doc.addEventListener("auxclick", onExitClick);

  var shifts = 0, shiftTimer = null, escapes = 0, escTimer = null;

  function typing(el) {
    if (!el) { return false; }
    if (el.closest && el.closest("dialog[open], [role=dialog], [role=alertdialog]")) { return true; }
    if (el.isContentEditable) { return true; }
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag !== "INPUT") { return false; }
    return ["button", "checkbox", "radio", "submit", "reset", "range", "color", "file", "image"].indexOf(el.type) < 0;
  }

  function resetShift() { shifts = 0; clearTimeout(shiftTimer); }
  function resetEsc() { escapes = 0; clearTimeout(escTimer); }

  doc.addEventListener("keydown", function (event) {
    var texts = bar() ? bar().dataset : {};
    if (event.key === "Shift") {
      if (event.repeat) { return; }
      resetEsc();
      shifts += 1;
      clearTimeout(shiftTimer);
      shiftTimer = setTimeout(resetShift, SHIFT_WINDOW);
      if (shifts >= 3) { resetShift(); announce(texts.leaving || ""); exitNow(); }
      else { announce(shifts === 1 ? texts.shiftTwo : texts.shiftOne); }
      return;
    }
    resetShift();
    if (event.key === "Escape" || event.key === "Esc") {
      if (typing(doc.activeElement)) { resetEsc(); return; }
      escapes += 1;
      clearTimeout(escTimer);
      escTimer = setTimeout(resetEsc, ESC_WINDOW);
      if (escapes >= 2) { resetEsc(); announce(texts.leaving || ""); exitNow(); }
      else { announce(texts.escOne || ""); }
      return;
    }
    resetEsc();
  }, true);

  // Back/Forward from memory: hide and reload (signed out after an exit).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { cover(); location.reload(); }
  });

  // Cover the page in the app switcher.
  doc.addEventListener("visibilitychange", function () {
    if (doc.visibilityState === "hidden") { if (doc.body.hasAttribute("data-cover")) { cover(); } } else if (!leaving) { uncover(); }
  });

  // A new account's time zone.
  doc.addEventListener("DOMContentLoaded", function () {
    var zone = doc.querySelector("[data-time-zone]");
    try { if (zone && !zone.value) { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } } catch (e) { /* stays UTC */ }
  });

  // The error summary of a refused form: a link moves focus to its field (the first choice of a group) and shows
  // the field's label or legend with it, as GOV.UK does; without this the link still scrolls there.
  doc.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    var field = link && doc.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var group = field.closest("fieldset");
    var label = (group && group.querySelector("legend")) || doc.querySelector("label[for='" + field.id + "']") || field;
    field.focus({ preventScroll: true });
    label.scrollIntoView({ block: "start" });
  });

  // Copy buttons (the one-time staff link): shown only where the browser can copy; the field stays selectable.
  doc.addEventListener("DOMContentLoaded", function () {
    if (!navigator.clipboard) { return; }
    doc.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = doc.getElementById(button.getAttribute("data-copy"));
        navigator.clipboard.writeText(field.value).then(function () {
          announce(button.getAttribute("data-copied"));
        }, function () { field.select(); });
      });
    });
  });

  // Undo after Stop all sharing: offered for its few seconds, then taken away (the server refuses it later too).
  doc.addEventListener("DOMContentLoaded", function () {
    var undo = doc.querySelector("[data-undo-for]");
    if (undo) { setTimeout(function () { undo.remove(); }, 1000 * Number(undo.getAttribute("data-undo-for"))); }
  });

  // Print my safety plan (after its warning): print styles show it for this one print.
  doc.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-print-plan]");
    if (!link) { return; }
    event.preventDefault();
    var root = doc.documentElement;
    root.classList.add("wp-print-plan");
    window.addEventListener("afterprint", function () { root.classList.remove("wp-print-plan"); }, { once: true });
    window.print();
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () { /**/ });
    });
  }
})();
