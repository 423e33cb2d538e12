/* Telegram formatting to DOM nodes, safely.
 *
 * The bot sends its cards with parse_mode HTML using the few tags Telegram supports (b, i, u,
 * s, a href, code, pre, blockquote); Telegram keeps them as plain text plus "entities" (offset
 * and length in UTF-16 code units, which are JavaScript string indices). This builds the same
 * elements from the entities with createElement and text nodes: no string is ever parsed as
 * HTML, so a customer's "<b>" stays visible text. Links keep only http(s) and tg: addresses.
 */
(function () {
  "use strict";

  var TAGS = {
    bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote", text_link: "a", url: "a",
    spoiler: "span", bot_command: "span", mention: "span", hashtag: "span"
  };

  function safeHref(href) {
    return /^(https?:|tg:)/i.test(href || "") ? href : null;
  }

  function elementFor(entity, text) {
    var tag = TAGS[entity.type] || "span";
    var node = document.createElement(tag);
    if (tag === "a") {
      var href = safeHref(entity.type === "url" ? text : entity.url);
      if (href) {
        node.href = href;
        node.target = "_blank";
        node.rel = "noopener noreferrer";
      }
    }
    if (entity.type === "spoiler") node.className = "spoiler";
    if (entity.type === "bot_command") node.className = "command";
    return node;
  }

  function build(text, entities, start, end, parent) {
    var pos = start;
    var i = 0;
    while (i < entities.length) {
      var e = entities[i];
      var eEnd = e.offset + e.length;
      if (e.offset < pos || eEnd > end) { i++; continue; } // overlapping: keep the text only
      if (e.offset > pos) parent.appendChild(document.createTextNode(text.slice(pos, e.offset)));
      var inner = [];
      var j = i + 1;
      while (j < entities.length && entities[j].offset < eEnd) {
        if (entities[j].offset + entities[j].length <= eEnd) inner.push(entities[j]);
        j++;
      }
      var node = elementFor(e, text.slice(e.offset, eEnd));
      build(text, inner, e.offset, eEnd, node);
      parent.appendChild(node);
      pos = eEnd;
      i = j;
    }
    if (pos < end) parent.appendChild(document.createTextNode(text.slice(pos, end)));
  }

  /** A DocumentFragment showing `text` with Telegram `entities` applied. */
  function formatTelegram(text, entities) {
    var fragment = document.createDocumentFragment();
    text = String(text || "");
    var sorted = (entities || [])
      .filter(function (e) {
        return e && e.length > 0 && e.offset >= 0 && e.offset + e.length <= text.length;
      })
      .slice()
      .sort(function (a, b) { return a.offset - b.offset || b.length - a.length; });
    build(text, sorted, 0, text.length, fragment);
    return fragment;
  }

  window.formatTelegram = formatTelegram;
})();
