// Riposte's web chat: turns a bot message into page elements, with text nodes only.
//
// Supported: paragraphs (a line each, a blank line between paragraphs), **bold**, lists (lines
// starting with "-", "•", "*", or "1." / "1)"), and http(s) links. Links to the page's own
// letters (/lettres/…) become download links; links to an evidence upload page (/pieces/…)
// are listed in `extras.uploads` so that the chat can show an upload field under the message.
// Nothing is ever parsed as HTML.
(function () {
  "use strict";

  var LETTER_PATH = /^\/lettres\/[A-Za-z0-9_.~-]+\.(pdf|docx)$/;
  var UPLOAD_PATH = /^\/pieces\/[A-Za-z0-9_.~-]+$/;
  var URL_OR_BOLD = /\*\*([^*\n]+)\*\*|(https?:\/\/[^\s<>"]+)/g;

  function samePagePath(url) {
    // Letters and upload pages are served by this page's server: keep the path only, so the
    // link works whatever host name the bot's public address uses.
    if (LETTER_PATH.test(url.pathname) || UPLOAD_PATH.test(url.pathname)) { return url.pathname; }
    return null;
  }

  function linkElement(raw, extras) {
    var trimmed = raw.replace(/[.,;:!?)»]+$/, "");
    var rest = raw.slice(trimmed.length);
    var url;
    try { url = new URL(trimmed); } catch (e) { return [document.createTextNode(raw)]; }
    if (url.protocol !== "http:" && url.protocol !== "https:") { return [document.createTextNode(raw)]; }
    var a = document.createElement("a");
    var local = samePagePath(url);
    var letter = local && LETTER_PATH.exec(local);
    if (letter) {
      a.href = local;
      a.className = "download";
      a.setAttribute("download", "");
      a.textContent = letter[1] === "pdf" ? "Télécharger la lettre (PDF)" : "Télécharger la lettre (Word, DOCX)";
    } else if (local) {
      a.href = local;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = "page d'envoi de la capture";
      extras.uploads.push(local);
    } else {
      a.href = url.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = trimmed;
    }
    var nodes = [a];
    if (rest) { nodes.push(document.createTextNode(rest)); }
    return nodes;
  }

  function appendInline(parent, text, extras) {
    var last = 0;
    var match;
    URL_OR_BOLD.lastIndex = 0;
    while ((match = URL_OR_BOLD.exec(text)) !== null) {
      if (match.index > last) { parent.appendChild(document.createTextNode(text.slice(last, match.index))); }
      if (match[1] !== undefined) {
        var strong = document.createElement("strong");
        appendInline(strong, match[1], extras);
        parent.appendChild(strong);
        URL_OR_BOLD.lastIndex = match.index + match[0].length;
      } else {
        linkElement(match[2], extras).forEach(function (n) { parent.appendChild(n); });
      }
      last = match.index + match[0].length;
    }
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }

  // Paragraphs, and lists from lines starting with "-", "•", "*" or "1." / "1)".
  function appendRich(parent, text, extras) {
    var list = null;
    var paragraph = null;
    text.split("\n").forEach(function (line) {
      var bullet = /^\s*[-•*]\s+(.*)$/.exec(line);
      var numbered = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        var kind = bullet ? "UL" : "OL";
        if (!list || list.tagName !== kind) {
          list = document.createElement(kind);
          if (numbered) { list.start = parseInt(numbered[1], 10); }
          parent.appendChild(list);
        }
        var li = document.createElement("li");
        appendInline(li, bullet ? bullet[1] : numbered[2], extras);
        list.appendChild(li);
        paragraph = null;
      } else if (!line.trim()) {
        list = null;
        paragraph = null;
      } else {
        list = null;
        if (paragraph) {
          paragraph.appendChild(document.createElement("br"));
        } else {
          paragraph = document.createElement("p");
          parent.appendChild(paragraph);
        }
        appendInline(paragraph, line, extras);
      }
    });
  }

  window.RiposteRender = { appendRich: appendRich };
})();
