/* Passkeys: sign in, add, confirm it's you. The server checks everything. */
(function () {
  "use strict";
  var PKC = window.PublicKeyCredential;
  var forms = document.querySelectorAll("[data-passkey]");
  if (!PKC || !PKC.parseRequestOptionsFromJSON || !PKC.parseCreationOptionsFromJSON) { return; }

  function post(url, token, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", body: body === undefined ? "" : JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": token } })
      .then(function (response) { return response.json().then(function (data) { data.ok = response.ok; return data; }); });
  }

  Array.prototype.forEach.call(forms, function (form) {
    var mode = form.getAttribute("data-passkey");
    var note = form.querySelector("[data-passkey-note]");
    var token = form.elements._csrf_token.value;
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      note.textContent = "";
      post(form.action + "/options", token).then(function (options) {
        if (!options.ok) { return options; }  // refused: say why, or go to "Confirm it's you"
        var made = mode === "add"
          ? navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(options) })
          : navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(options) });
        return made.then(function (credential) {
          var body = credential.toJSON();
          if (mode === "add") { body = { credential: body, name: form.elements.name.value }; }
          if (mode === "confirm") { body = { credential: body, next: form.elements.next.value }; }
          return post(form.action, token, body);
        });
      }).then(function (answer) {
        if (answer.confirm) { location.assign(answer.confirm); return; }
        if (answer.ok && answer.redirect) { location.assign(answer.redirect); return; }
        note.textContent = answer.error || form.getAttribute("data-failed");
      }).catch(function () { note.textContent = form.getAttribute("data-failed"); });
    });
  });
})();
