// Plain page for the foundation: talks to Rasa's REST channel. Every text is inserted with
// textContent (never as HTML). The conversation id is random and kept in sessionStorage only.
(function () {
  "use strict";
  var log = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var status = document.getElementById("status");
  var endpoint = null;

  function senderId() {
    var id = sessionStorage.getItem("riposte.sender");
    if (!id) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      sessionStorage.setItem("riposte.sender", id);
    }
    return id;
  }

  function addMessage(who, text) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function addButtons(buttons) {
    var box = document.createElement("div");
    box.className = "buttons";
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () { send(b.payload, b.title); });
      box.appendChild(btn);
    });
    log.appendChild(box);
  }

  function send(message, shown) {
    addMessage("user", shown || message);
    status.textContent = "Riposte écrit…";
    return fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: senderId(), message: message })
    }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (replies) {
      status.textContent = "";
      replies.forEach(function (m) {
        if (m.text) { addMessage("bot", m.text); }
        if (m.buttons && m.buttons.length) { addButtons(m.buttons); }
      });
    }).catch(function () {
      status.textContent = "Le service ne répond pas pour le moment. Votre message est conservé : réessayez dans un instant.";
      input.value = shown || message;
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  fetch("config.json").then(function (r) { return r.json(); }).then(function (cfg) {
    endpoint = location.protocol + "//" + location.hostname + ":" + cfg.rasaPort + "/webhooks/rest/webhook";
  });
})();
