// Passkeys: register one from the profile, use one as the second factor, or sign in with one alone.
// Each [data-passkey] element names its flow and its two URLs: the options (POST) and the answer (POST JSON).
(function () {
  "use strict";
  if (!window.fetch) { return; }

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var text = atob(b64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return {type: d.type, id: toBytes(d.id), transports: d.transports}; });
  }

  function creationOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return {publicKey: o};
  }

  function requestOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return {publicKey: o};
  }

  function answer(credential) {
    var r = credential.response, out = {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(), response: {}
    };
    out.response.clientDataJSON = toB64url(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) { out.response.userHandle = toB64url(r.userHandle); }
    }
    return JSON.stringify(out);
  }

  function csrfToken(el) {
    var field = document.querySelector("input[name=csrf_token]");
    return el.dataset.csrf || (field ? field.value : "");
  }

  function post(el, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": csrfToken(el)},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || data.message || el.dataset.failed); }
        return data;
      });
    });
  }

  function run(el, event) {
    event.preventDefault();
    var status = document.getElementById(el.dataset.status);
    var flow = el.dataset.passkey, nameField = el.querySelector("input[name=name]");
    if (flow === "register" && nameField && !nameField.value.trim()) {
      status.textContent = el.dataset.nameMissing;
      nameField.focus();
      return;
    }
    status.textContent = el.dataset.working;
    post(el, el.dataset.options).then(function (options) {
      return flow === "register" ? navigator.credentials.create(creationOptions(options))
                                 : navigator.credentials.get(requestOptions(options));
    }).then(function (credential) {
      var body = {credential: answer(credential)};
      if (nameField) { body.name = nameField.value.trim(); }
      return post(el, el.dataset.url, body);
    }).then(function (data) {
      window.location.assign(data.redirect);
    }).catch(function (error) {
      status.textContent = (error && error.name === "NotAllowedError") ? el.dataset.cancelled
                                                                        : (error.message || el.dataset.failed);
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (el) {
    if (!window.PublicKeyCredential) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    el.addEventListener(el.tagName === "FORM" ? "submit" : "click", function (event) { run(el, event); });
  });
})();
