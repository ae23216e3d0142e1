/* "Turn on reminders on this phone": the subscription goes in the page's form; the server checks it. */
(function () {
  "use strict";
  var form = document.getElementById("push-form");
  if (!form || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) { return; }
  var note = document.getElementById("push-note");
  form.querySelector("button").hidden = false;
  note.textContent = "";
  form.addEventListener("submit", function (event) {
    if (form.elements.endpoint.value) { return; }
    event.preventDefault();
    if (form.dataset.confirm) { location.assign(form.dataset.confirm); return; }
    Notification.requestPermission().then(function (answer) {
      if (answer !== "granted") { throw new Error(answer); }
      return navigator.serviceWorker.register("/sw.js").then(function () { return navigator.serviceWorker.ready; });
    }).then(function (registration) {
      return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: form.dataset.key });
    }).then(function (subscription) {
      var data = subscription.toJSON();
      form.elements.endpoint.value = data.endpoint;
      form.elements.p256dh.value = data.keys.p256dh;
      form.elements.auth.value = data.keys.auth;
      form.submit();
    }).catch(function () { note.textContent = form.dataset.refused; });
  });
})();
