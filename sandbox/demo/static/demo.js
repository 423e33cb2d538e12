/* The demo page: polls /demo/api/state twice a second and draws the operators' group, the
 * customer simulator and the channels. Everything from customers or the fakes is set as text
 * (textContent / text nodes); the bot's Telegram formatting goes through formatTelegram. */
(function () {
  "use strict";

  var POLL_MS = 500;
  var PLATFORMS = [
    { id: "telegram", name: "Telegram" }, { id: "vk", name: "VK" },
    { id: "viber", name: "Viber" }, { id: "facebook", name: "Messenger" }
  ];
  var GUEST_GREY = "#6b7280"; // a guest's avatar (bridge/avatars/palette.py), and topic icon
  var LABELS = { telegram: "Telegram", vk: "VK", viber: "Viber", facebook: "Facebook" };
  // place: "group" (the operators' group) or "private" (in private mode: the operator's
  // private chat with the bot); topic: the thread shown there (null: General / no topic).
  var ui = {
    platform: "telegram", customer: {}, operator: null, place: "group", topic: null,
    show: "customer", last: {}, data: null, busy: false
  };
  var $ = function (id) { return document.getElementById(id); };

  function h(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key === "style") node.setAttribute("style", value);
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    var add = function (child) {
      if (child === null || child === undefined || child === false) return;
      if (Array.isArray(child)) child.forEach(add);
      else node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    };
    for (var i = 2; i < arguments.length; i++) add(arguments[i]);
    return node;
  }

  function changed(key, value) {
    var json = JSON.stringify(value);
    if (ui.last[key] === json) return false;
    ui.last[key] = json;
    return true;
  }

  function initials(name) {
    var parts = String(name || "?").trim().split(/\s+/);
    return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[1][0] : "")).toUpperCase();
  }

  var COLORS = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb"];
  function colorFor(id) { return COLORS[Math.abs(Number(id) || 0) % COLORS.length]; }

  // The bot's one name (the server's, as the fake Telegram shows it).
  function botName() { return ui.data && ui.data.bot ? ui.data.bot.name : "Bot"; }

  function time(seconds) {
    var d = new Date(seconds * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function toast(text, bad) {
    var node = $("toast");
    node.textContent = text;
    node.className = "toast" + (bad ? " bad" : "");
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, 3500);
  }

  function api(method, path, body) {
    var init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
        return data;
      });
    });
  }

  function nearBottom(list) { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }
  function redrawList(list, nodes, force) {
    var stick = force || nearBottom(list);
    list.replaceChildren.apply(list, nodes);
    if (stick) list.scrollTop = list.scrollHeight;
  }

  // --- header: channel states ------------------------------------------------------------
  function drawChannels(channels) {
    if (!changed("channels", channels)) return;
    var items = Object.keys(channels).map(function (name) {
      var c = channels[name];
      var ok = c.state === "running" || c.state === "degraded";
      return h("li", { className: "pill " + (ok ? "ok" : "off"), title: c.detail || c.state },
        h("span", { className: "dot", "aria-hidden": "true" }),
        (LABELS[name] || (name.indexOf("site:") === 0 ? "Site widget" : name)) + (ok ? "" : " · off"));
    });
    $("channels").replaceChildren.apply($("channels"), items);
    var site = channels["site:" + ui.data.widget_id];
    var note = $("widget-note");
    var off = !site || !(site.state === "running" || site.state === "degraded");
    note.hidden = !off;
    note.textContent = off ? "The site widget is not running in this build" +
      (site && site.detail ? " (" + site.detail + ")." : ".") : "";
  }

  // --- customer simulator ----------------------------------------------------------------
  function drawPlatforms() {
    var box = $("platforms");
    box.replaceChildren.apply(box, PLATFORMS.map(function (p) {
      return h("button", {
        type: "button", role: "tab", className: "platform " + p.id,
        "aria-selected": String(ui.platform === p.id),
        onclick: function () { ui.platform = p.id; ui.last.transcript = null; drawPlatforms(); refresh(); }
      }, p.name);
    }));
    $("phone-head").className = "phone-head " + ui.platform;
  }

  function drawCustomers(customers) {
    var list = customers[ui.platform] || [];
    if (!ui.customer[ui.platform] && list.length) ui.customer[ui.platform] = list[0].id;
    if (!changed("customers", [ui.platform, ui.customer[ui.platform], list, botName()])) return;
    var select = $("customer-select");
    select.replaceChildren.apply(select, list.map(function (c) {
      return h("option", { value: c.id, selected: c.id === ui.customer[ui.platform] }, c.name);
    }));
    var current = list.filter(function (c) { return c.id === ui.customer[ui.platform]; })[0];
    var platform = PLATFORMS.filter(function (p) { return p.id === ui.platform; })[0];
    $("phone-title").textContent = botName(); // the company's chat, as the customer sees it
    $("phone-who").textContent = (current ? current.name + " on " : "") + platform.name;
  }

  function drawTranscript(lines) {
    if (!changed("transcript", [ui.platform, ui.customer[ui.platform], lines])) return;
    var nodes = lines.map(function (line) {
      return h("li", { className: "bubble " + (line.side === "customer" ? "out" : "in") },
        h("span", { className: "body", text: line.text }),
        h("time", { text: time(line.time) }));
    });
    if (!nodes.length) {
      nodes = [h("li", { className: "empty", text: "No messages yet. Say hello to the company." })];
    }
    redrawList($("customer-thread"), nodes, true);
  }

  // --- operators' group ------------------------------------------------------------------
  function drawOperators(operators) {
    if (ui.operator === null && operators.length) ui.operator = operators[0].id;
    if (!changed("operators", [operators, ui.operator])) return;
    var box = $("operator-switch");
    box.replaceChildren.apply(box, operators.map(function (op) {
      return h("button", {
        type: "button", "aria-pressed": String(op.id === ui.operator),
        onclick: function () {
          ui.operator = op.id;
          ui.last.operators = null;
          ui.last.messages = null;
          ui.last.private = null;
          drawOperators(ui.data.operators);
          drawPrivate(ui.data);
          drawChat(ui.data);
        }
      }, h("span", { className: "mini-avatar", style: "background:" + colorFor(op.id), text: initials(op.name) }), op.name);
    }));
  }

  function drawTopics(group) {
    if (!changed("topics", [group.topics, ui.place, ui.topic, generalPreview(group)])) return;
    var general = h("li", {},
      topicButton("group", null, "General", "Incoming feed · " + generalPreview(group), "#8e9aa6", false));
    var items = [general].concat(group.topics.map(function (t) {
      return h("li", {}, topicButton("group", t.thread_id, t.name, t.last, topicColor(t), t.closed));
    }));
    $("topic-list").replaceChildren.apply($("topic-list"), items);
  }

  // Private mode: the chosen operator's private chat with the bot, with its topics.
  function privateChat(data) {
    return data.private ? data.private[String(ui.operator)] : null;
  }

  function drawPrivate(data) {
    var chat = privateChat(data);
    var box = $("private-chat");
    box.hidden = !chat;
    if (!chat) return;
    var operator = data.operators.filter(function (op) { return op.id === ui.operator; })[0];
    if (!changed("private", [chat.topics, ui.place, ui.topic, ui.operator, generalPreview(chat)])) return;
    $("private-title").textContent = (operator ? operator.name : "Operator") + " ↔ " + chat.title;
    $("private-avatar").textContent = initials(chat.title);
    var general = h("li", {},
      topicButton("private", null, chat.title, generalPreview(chat) || "no topic", "#2aabee", false));
    var items = [general].concat(chat.topics.map(function (t) {
      return h("li", {}, topicButton("private", t.thread_id, t.name, t.last, topicColor(t), t.closed));
    }));
    $("private-topic-list").replaceChildren.apply($("private-topic-list"), items);
  }

  function topicColor(topic) { return topic.guest ? GUEST_GREY : topic.icon_color; }

  function generalPreview(chat) {
    var general = chat.messages.filter(function (m) { return m.topic === null; });
    return general.length ? general[general.length - 1].preview : "";
  }

  function topicButton(place, threadId, name, last, color, closed) {
    var active = ui.place === place && ui.topic === threadId;
    return h("button", {
      type: "button", className: "topic" + (active ? " active" : ""),
      "aria-current": active ? "true" : null,
      onclick: function () {
        ui.place = place; ui.topic = threadId;
        ui.last.messages = null; ui.last.topics = null; ui.last.private = null;
        refresh();
      }
    },
    h("span", { className: "topic-icon", style: "background:" + color, "aria-hidden": "true",
      text: threadId === null ? "#" : initials(name) }),
    h("span", { className: "topic-text" },
      h("span", { className: "topic-name", text: (closed ? "🔒 " : "") + name }),
      h("span", { className: "topic-last", text: last || "" })));
  }

  function drawChat(data) {
    var group = data.group;
    var chat = ui.place === "private" ? privateChat(data) : group;
    if (!chat) { ui.place = "group"; ui.topic = null; chat = group; }
    var topic = chat.topics.filter(function (t) { return t.thread_id === ui.topic; })[0];
    if (ui.topic !== null && !topic) ui.topic = null;
    $("group-title").textContent = group.title;
    $("group-subtitle").textContent = "forum · bot + " + data.operators.length + " operators" +
      (data.mode === "private" ? " · private mode" : "");
    if (ui.place === "private") {
      $("chat-title").textContent = topic ? topic.name : botName();
      $("chat-subtitle").textContent = topic
        ? "private topic: the claimer's messages go to the customer"
        : "private chat with the bot";
    } else {
      $("chat-title").textContent = topic ? topic.name : "General";
      $("chat-subtitle").textContent = topic
        ? (topic.closed ? "closed topic" : "the claimer's messages go to the customer")
        : "Incoming: new conversations appear here";
    }
    drawPinned(ui.place === "group" ? group.pinned : null);
    var messages = chat.messages.filter(function (m) { return m.topic === ui.topic; });
    if (!changed("messages", [messages, ui.operator, ui.place, ui.topic])) return;
    redrawList($("messages"), messages.map(messageNode), false);
  }

  function drawPinned(pinned) {
    if (!changed("pinned", pinned)) return;
    var node = $("pinned");
    node.hidden = !pinned;
    if (!pinned) return;
    node.replaceChildren(h("span", { className: "pin-label", text: "Pinned message" }),
      h("span", { className: "pin-text" }, formatTelegram(pinned.text, pinned.entities)));
    node.onclick = function () {
      ui.place = "group"; ui.topic = pinned.topic;
      ui.last.messages = null; ui.last.topics = null; ui.last.private = null; refresh();
    };
  }

  function messageNode(m) {
    if (m.service) {
      var what = m.service + (m.topic_name ? " “" + m.topic_name + "”" : "");
      var who = m.from.name;
      return h("li", { className: "service" }, h("span", { text: who + " " + what }));
    }
    var mine = m.from.id === ui.operator;
    var bubble = h("div", { className: "tg-bubble" + (m.photo ? " has-photo" : "") });
    if (!mine) {
      bubble.appendChild(h("span", {
        className: "sender", style: "color:" + colorFor(m.from.id),
        text: m.from.name
      }));
    }
    if (m.photo) bubble.appendChild(h("img", { className: "photo", src: m.photo, alt: "" }));
    if (m.file_name) bubble.appendChild(h("span", { className: "file", text: "📎 " + m.file_name }));
    if (m.text) {
      var body = h("div", { className: "text" });
      if (m.from.is_bot) body.appendChild(formatTelegram(m.text, m.entities));
      else body.textContent = m.text;
      bubble.appendChild(body);
    }
    bubble.appendChild(h("span", { className: "meta", text: (m.edited ? "edited " : "") +
      (m.pinned ? "📌 " : "") + time(m.date) }));
    var column = h("div", { className: "column" }, bubble);
    if (m.buttons && m.buttons.length) {
      column.appendChild(h("div", { className: "keyboard" }, m.buttons.map(function (row) {
        return h("div", { className: "kb-row" }, row.map(function (b) {
          return h("button", {
            type: "button", className: "kb-button",
            onclick: function () { press(m, b); }
          }, b.text);
        }));
      })));
    }
    var avatar = mine ? null : h("span", {
      className: "avatar" + (m.from.is_bot ? " bot" : ""),
      style: "background:" + (m.from.is_bot ? "#2aabee" : colorFor(m.from.id)),
      "aria-hidden": "true", text: initials(m.from.name)
    });
    return h("li", { className: "msg " + (mine ? "mine" : "theirs"), "data-id": m.id }, avatar, column);
  }

  function press(message, button) {
    if (!button.callback_data) {
      if (button.url) window.open(button.url, "_blank", "noopener");
      return;
    }
    api("POST", "/demo/api/group/presses", {
      operator_id: ui.operator, message_id: message.id, data: button.callback_data, chat: ui.place
    }).then(function (result) {
      var answer = result.answer;
      if (answer && answer.text) toast(answer.text, !!answer.show_alert);
      // The feed's button is Accept: once it worked, say why posts and counters may lag.
      if (ui.place === "group" && message.topic === null && answer && !answer.show_alert) {
        showPace(ui.data.pace);
      }
      refresh();
    }).catch(function (error) { toast(error.message, true); });
  }

  function number(value) { return String(Math.round(value * 10) / 10); }

  function showPace(pace) {
    if (!pace || !pace.per_minute) return;
    var line = "The bot paces its posts to Telegram's limit of " + number(pace.per_minute) +
      " a minute into the group";
    if (pace.counters_every) {
      line += "; the pinned counters refresh every " + number(pace.counters_every) + " s";
    }
    $("pace-note").textContent = line + ".";
    $("pace-note").hidden = false;
  }

  // A t.me link into the group (bridge/core/cards.py group_link: /c/CHAT/THREAD/MESSAGE,
  // /c/CHAT/THREAD or /c/CHAT/MESSAGE) opens that topic here instead of Telegram.
  function placeOf(href) {
    var found = /^https:\/\/t\.me\/c\/(\d+)\/(\d+)(?:\/(\d+))?$/.exec(href || "");
    var group = ui.data && ui.data.group;
    if (!found || !group || String(group.chat_id).replace(/^-(100)?/, "") !== found[1]) return null;
    var first = Number(found[2]);
    if (found[3]) return { topic: first, message: Number(found[3]) };
    if (group.topics.some(function (t) { return t.thread_id === first; })) {
      return { topic: first, message: null };
    }
    var message = group.messages.filter(function (m) { return m.id === first; })[0];
    return message ? { topic: message.topic, message: first } : null;
  }

  function openLink(event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    var place = link && placeOf(link.href);
    if (!place) return;
    event.preventDefault();
    event.stopPropagation();
    ui.place = "group"; ui.topic = place.topic;
    ui.last.messages = null; ui.last.topics = null; ui.last.private = null;
    refresh().then(function () {
      var node = place.message && $("messages").querySelector('[data-id="' + place.message + '"]');
      if (node) node.scrollIntoView({ block: "center" });
    });
  }

  // --- polling ---------------------------------------------------------------------------
  function refresh() {
    var query = "?platform=" + encodeURIComponent(ui.platform) +
      "&customer=" + encodeURIComponent(ui.customer[ui.platform] || "");
    return api("GET", "/demo/api/state" + query).then(function (data) {
      ui.data = data;
      drawChannels(data.channels);
      drawCustomers(data.customers);
      if (!ui.customer[ui.platform]) data.transcript = [];
      drawTranscript(data.transcript);
      drawOperators(data.operators);
      drawTopics(data.group);
      drawPrivate(data);
      drawChat(data);
      $("private-note").hidden = data.mode !== "private";
    });
  }

  function loop() {
    if (ui.busy) return;
    ui.busy = true;
    refresh().catch(function (error) { console.warn("demo state:", error); })
      .then(function () { ui.busy = false; });
  }

  // --- forms and navigation --------------------------------------------------------------
  function wire() {
    $("messages").addEventListener("click", openLink);
    $("pinned").addEventListener("click", openLink, true);
    $("customer-select").addEventListener("change", function (event) {
      ui.customer[ui.platform] = event.target.value;
      refresh();
    });
    $("new-customer").addEventListener("click", function () {
      var form = $("new-customer-form");
      form.hidden = !form.hidden;
      if (!form.hidden) $("new-customer-name").focus();
    });
    $("new-customer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var name = $("new-customer-name").value;
      api("POST", "/demo/api/customers", { platform: ui.platform, name: name }).then(function (c) {
        ui.customer[ui.platform] = c.id;
        $("new-customer-name").value = "";
        $("new-customer-form").hidden = true;
        refresh();
        $("customer-text").focus();
      }).catch(function (error) { toast(error.message, true); });
    });
    $("customer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("customer-text");
      var id = ui.customer[ui.platform];
      if (!input.value.trim() || !id) return;
      var path = "/demo/api/customers/" + ui.platform + "/" + encodeURIComponent(id) + "/messages";
      api("POST", path, { text: input.value }).then(function () {
        input.value = "";
        refresh();
      }).catch(function (error) { toast(error.message, true); });
    });
    $("group-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("group-text");
      if (!input.value.trim()) return;
      api("POST", "/demo/api/group/messages", {
        operator_id: ui.operator, text: input.value, topic: ui.topic, chat: ui.place
      }).then(function () {
        input.value = "";
        ui.last.messages = null;
        refresh().then(function () { var l = $("messages"); l.scrollTop = l.scrollHeight; });
      }).catch(function (error) { toast(error.message, true); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (button) {
      button.addEventListener("click", function () {
        ui.show = button.getAttribute("data-panel");
        document.querySelector(".layout").setAttribute("data-show", ui.show);
        Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
      });
    });
    var widget = "/widget/" + document.querySelector("script[src^='/widget/']")
      .getAttribute("src").split("/").pop().replace(/\.js$/, "");
    $("snippet").textContent = '<script src="' + location.origin + widget + '.js" async></script>';
    $("widget-link").href = widget;
  }

  wire();
  drawPlatforms();
  loop();
  setInterval(loop, POLL_MS);
})();
