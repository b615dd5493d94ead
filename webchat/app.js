// Riposte's web chat: talks to Rasa's socket.io channel (riposte_rasa/channels/socketio.py).
//
// Safety: every text, the bot's and the user's, is put in the page with text nodes, never as
// HTML; links are built as elements from parsed URLs (http and https only). The session id is
// drawn by the server (256 random bits). The conversation shown, the session id and the unsent draft live in
// sessionStorage only (gone when the tab closes; « Quitter rapidement » clears them at once).
(function () {
  "use strict";

  var KEYS = { session: "riposte.session", transcript: "riposte.transcript", draft: "riposte.draft" };
  var MAX_ENTRIES = 400;
  var UPLOAD_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf"];
  var appendRich = window.RiposteRender.appendRich;

  var log = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var status = document.getElementById("status");
  var alertLine = document.getElementById("alert");
  var typing = document.getElementById("typing");
  var config = { maxMessageChars: 5000, maxUploadBytes: 10 * 1024 * 1024, quickExitUrl: "https://meteofrance.com/" };
  var socket = null;
  var sessionId = null;
  var transcript = [];
  var typingTimer = null;
  var slowTimer = null;

  // ---- Storage (the tab's sessionStorage; the page still works if it is unavailable) ----
  function load(key, fallback) {
    try {
      var value = sessionStorage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }
  function store(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or disabled */ }
  }
  function forgetAll() {
    try {
      Object.keys(KEYS).forEach(function (k) { sessionStorage.removeItem(KEYS[k]); });
      sessionStorage.clear();
    } catch (e) { /* nothing stored */ }
  }
  function saveTranscript() {
    if (transcript.length > MAX_ENTRIES) { transcript = transcript.slice(-MAX_ENTRIES); }
    store(KEYS.transcript, transcript);
  }

  function scrollToEnd() { log.scrollTop = log.scrollHeight; }
  window.addEventListener("resize", scrollToEnd);

  function renderEntry(entry, index) {
    var wrapper = document.createElement("div");
    wrapper.className = "entry " + entry.who;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = entry.who === "user" ? "Vous : " : entry.who === "bot" ? "Riposte : " : "";
    bubble.appendChild(who);
    var extras = { uploads: [] };
    if (entry.who === "user") {
      var p = document.createElement("p");
      p.textContent = entry.text;
      bubble.appendChild(p);
    } else {
      appendRich(bubble, entry.text || "", extras);
    }
    wrapper.appendChild(bubble);
    if (entry.buttons && entry.buttons.length) { wrapper.appendChild(renderButtons(entry, index)); }
    extras.uploads.forEach(function (path) { wrapper.appendChild(renderUpload(entry, index, path)); });
    log.appendChild(wrapper);
    scrollToEnd();
  }

  function renderButtons(entry, index) {
    var box = document.createElement("div");
    box.className = "choices";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Réponses proposées");
    entry.buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      if (entry.chosen !== undefined) {
        btn.disabled = true;
        if (entry.chosen === b.title) { btn.className = "chosen"; btn.setAttribute("aria-pressed", "true"); }
      }
      btn.addEventListener("click", function () {
        if (!send(b.payload, b.title)) { return; }
        transcript[index].chosen = b.title;
        saveTranscript();
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (other) { other.disabled = true; });
        btn.className = "chosen";
        btn.setAttribute("aria-pressed", "true");
        input.focus();
      });
      box.appendChild(btn);
    });
    return box;
  }

  function renderUpload(entry, index, path) {
    var box = document.createElement("form");
    box.className = "upload";
    box.noValidate = true;
    var note = document.createElement("p");
    note.className = "upload-status";
    note.setAttribute("role", "status");
    if (entry.uploaded) {
      note.textContent = entry.uploaded;
      box.appendChild(note);
      return box;
    }
    var id = "upload-" + index;
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Joindre la capture d'écran (image ou PDF, 10 Mo au plus)";
    var file = document.createElement("input");
    file.type = "file";
    file.id = id;
    file.accept = UPLOAD_TYPES.join(",");
    var go = document.createElement("button");
    go.type = "submit";
    go.textContent = "Envoyer la capture";
    box.appendChild(label);
    box.appendChild(file);
    box.appendChild(go);
    box.appendChild(note);
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var chosen = file.files && file.files[0];
      if (!chosen) { note.textContent = "Choisissez d'abord un fichier."; file.focus(); return; }
      if (UPLOAD_TYPES.indexOf(chosen.type) < 0) {
        note.textContent = "Ce fichier n'est ni une image (PNG, JPEG, WebP, GIF) ni un PDF : choisissez une capture d'écran.";
        file.focus();
        return;
      }
      if (chosen.size > config.maxUploadBytes) {
        note.textContent = "Ce fichier dépasse " + Math.round(config.maxUploadBytes / 1048576) + " Mo : envoyez une capture plus légère.";
        file.focus();
        return;
      }
      var data = new FormData();
      data.append("fichier", chosen, chosen.name);
      go.disabled = true;
      note.textContent = "Envoi en cours…";
      fetch(path, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          return r.json().catch(function () { return { ok: false, message: "Réponse illisible du serveur (" + r.status + ")." }; });
        })
        .then(function (result) {
          if (result.ok) {
            var done = result.message + (result.sha256 ? " Empreinte : " + result.sha256.slice(0, 16) + "…" : "");
            transcript[index].uploaded = done;
            saveTranscript();
            box.textContent = "";
            note.textContent = done;
            box.appendChild(note);
          } else {
            go.disabled = false;
            note.textContent = result.message || "L'envoi a échoué.";
          }
        })
        .catch(function () {
          go.disabled = false;
          note.textContent = "Le serveur ne répond pas : votre fichier n'a pas été envoyé, réessayez dans un instant.";
        });
    });
    return box;
  }

  function add(entry) {
    transcript.push(entry);
    saveTranscript();
    renderEntry(entry, transcript.length - 1);
  }

  // ---- Typing indicator ----
  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    clearTimeout(slowTimer);
    slowTimer = setTimeout(function () {
      typing.hidden = true;
      say("Riposte met du temps à répondre. Votre message est bien parti ; patientez ou réessayez dans un instant.");
    }, 30000);
  }
  function botSpoke() {
    clearTimeout(slowTimer);
    clearTimeout(typingTimer);
    // More messages of the same turn may follow: keep the indicator a moment.
    typingTimer = setTimeout(function () { typing.hidden = true; }, 700);
  }
  // Progress in the polite status line, problems in the alert line (read at once).
  function say(text, urgent) {
    status.textContent = urgent ? "" : text;
    alertLine.textContent = urgent ? text : "";
  }

  // ---- Sending ----
  function connected() { return socket !== null && socket.connected && sessionId !== null; }

  function send(payload, shown) {
    if (!connected()) {
      say("La connexion au service est interrompue. Votre message est conservé : il pourra être envoyé dès son retour.", true);
      return false;
    }
    if (payload.length > config.maxMessageChars) {
      say("Votre message est trop long (" + payload.length + " caractères, " + config.maxMessageChars + " au plus) : raccourcissez-le ou envoyez-le en plusieurs fois.", true);
      return false;
    }
    if (shown !== null) { add({ who: "user", text: shown }); }
    say("");
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
    showTyping();
    return true;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { say("Écrivez d'abord votre message.", true); input.focus(); return; }
    if (send(text, text)) {
      input.value = "";
      store(KEYS.draft, "");
    }
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : sendButton.click();
    }
  });
  input.addEventListener("input", function () {
    store(KEYS.draft, input.value);
    var length = input.value.length;
    if (length > config.maxMessageChars) {
      say("Message trop long : " + length + " caractères sur " + config.maxMessageChars + " au plus.", false);
    } else if (status.textContent.indexOf("Message trop long") === 0 || alertLine.textContent.indexOf("Votre message est trop long") === 0) {
      say("");
    }
  });

  // ---- Connection ----
  function connect() {
    var url = config.socketUrl || (location.protocol + "//" + location.hostname + ":" + config.rasaPort);
    socket = io(url, { path: config.socketPath || "/socket.io/", transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: load(KEYS.session, null) });
    });
    socket.on("session_confirm", function (id) {
      var known = load(KEYS.session, null);
      sessionId = typeof id === "string" ? id : null;
      if (sessionId && sessionId !== known) { store(KEYS.session, sessionId); }
      say("");
      if (transcript.length === 0) { send("/greet", null); }
    });
    socket.on("bot_uttered", function (message) {
      if (!message || typeof message !== "object") { return; }
      botSpoke();
      var buttons = (message.quick_replies || message.buttons || []).filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) { return { title: b.title, payload: b.payload }; });
      var text = typeof message.text === "string" ? message.text : "";
      if (!text && !buttons.length) { return; }
      add({ who: "bot", text: text, buttons: buttons });
    });
    socket.on("riposte_error", function (error) {
      typing.hidden = true;
      clearTimeout(slowTimer);
      if (error && typeof error.text === "string") { say(error.text, true); }
      var lastUser = null;
      for (var i = transcript.length - 1; i >= 0; i--) { if (transcript[i].who === "user") { lastUser = i; break; } }
      if (lastUser !== null && !input.value) { input.value = transcript[lastUser].text; store(KEYS.draft, input.value); }
    });
    socket.on("disconnect", function () {
      sessionId = null;
      say("Connexion interrompue, reconnexion en cours… Ce que vous écrivez est conservé.", false);
    });
    socket.on("connect_error", function () {
      say("Le service ne répond pas pour le moment. Ce que vous écrivez est conservé ; nouvelle tentative automatique.", false);
    });
  }

  // ---- The two header buttons ----
  document.getElementById("new-conversation").addEventListener("click", function () {
    if (transcript.length > 1 && !window.confirm("Commencer une nouvelle conversation ? Ce fil sera effacé de l'écran. Votre dossier, s'il a été créé, reste accessible avec son code et sa phrase secrète.")) {
      return;
    }
    forgetAll();
    transcript = [];
    log.textContent = "";
    input.value = "";
    say("");
    sessionId = null;
    if (socket) { socket.disconnect(); socket.connect(); }
    input.focus();
  });

  document.getElementById("quick-exit").addEventListener("click", function () {
    forgetAll();
    log.textContent = "";
    input.value = "";
    if (socket) { socket.disconnect(); }
    // replace(): the back button does not come back to the conversation.
    location.replace(config.quickExitUrl || "https://meteofrance.com/");
  });

  // ---- Start ----
  transcript = load(KEYS.transcript, []);
  if (!Array.isArray(transcript)) { transcript = []; }
  transcript.forEach(renderEntry);
  input.value = load(KEYS.draft, "") || "";
  fetch("config.json", { cache: "no-store" })
    .then(function (r) { if (!r.ok) { throw new Error("config " + r.status); } return r.json(); })
    .then(function (cfg) {
      Object.keys(cfg).forEach(function (k) { if (cfg[k] !== null && cfg[k] !== undefined) { config[k] = cfg[k]; } });
      if (typeof io !== "function") { throw new Error("socket.io client missing"); }
      connect();
    })
    .catch(function () {
      say("La page n'a pas pu joindre le service Riposte. Rechargez-la dans un instant.", true);
    });
})();
