/* Talker Bridge site chat widget: <script src="https://HOST/widget/ID.js" async></script>
   Plain JS, no build step. Everything from the network is rendered with textContent. */
(function () {
  "use strict";
  var C = __TB_CONFIG__;
  var me = document.currentScript;
  if (!me || document.getElementById("tb-chat-" + C.id)) return;
  var base = new URL(me.src, location.href).origin;
  var api = base + "/widget/" + encodeURIComponent(C.id);
  var inPage = me.hasAttribute("data-page");
  var lang = (me.getAttribute("data-lang") || document.documentElement.lang || "en");
  lang = lang.slice(0, 2).toLowerCase() === "ru" ? "ru" : "en";
  var T = {
    en: { open: "Open chat", close: "Close chat", message: "Message", send: "Send",
      name: "Name", namePh: "Optional", attach: "Attach a file", type: "Write a message…",
      hello: "Hi! Ask us anything — we usually reply within minutes.",
      offline: "Reconnecting…", failed: "Not sent. Tap to retry.", you: "You",
      operator: "Support", tooFast: "Slow down a little, please." },
    ru: { open: "Открыть чат", close: "Закрыть чат", message: "Сообщение", send: "Отправить",
      name: "Имя", namePh: "Необязательно", attach: "Прикрепить файл",
      type: "Напишите сообщение…",
      hello: "Здравствуйте! Задайте вопрос — обычно мы отвечаем за несколько минут.",
      offline: "Переподключение…", failed: "Не отправлено. Нажмите, чтобы повторить.",
      you: "Вы", operator: "Поддержка", tooFast: "Пожалуйста, чуть медленнее." }
  }[lang];
  var KEY = "tb:" + C.id + ":";
  function load(k) { try { return localStorage.getItem(KEY + k); } catch (e) { return null; } }
  function save(k, v) {
    try { if (v == null) localStorage.removeItem(KEY + k); else localStorage.setItem(KEY + k, v); }
    catch (e) { /* private mode: this page view only */ }
  }
  var token = load("token"), lastId = 0, shown = {}, pending = {}, ws = null, tries = 0;
  var started = false, timer = null;

  function el(tag, cls, attrs) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    for (var k in attrs || {}) n.setAttribute(k, attrs[k]);
    return n;
  }
  var host = el("div", "", { id: "tb-chat-" + C.id });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link", "", { rel: "stylesheet", href: api + ".css" });
  var wrap = el("div", "tb" + (inPage ? " tb-page" : ""), { lang: lang });
  var launch = el("button", "tb-launch", { type: "button", "aria-label": T.open,
    "aria-expanded": "false" });
  launch.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2' +
    ' 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  var panel = el("section", "tb-panel", { role: "dialog", "aria-label": C.title });
  var head = el("header", "tb-head");
  var title = el("h2", "tb-title");
  title.textContent = C.title;
  var closer = el("button", "tb-close", { type: "button", "aria-label": T.close });
  closer.textContent = "×";
  var nameRow = el("label", "tb-name");
  var nameText = el("span");
  nameText.textContent = T.name;
  var nameBox = el("input", "", { type: "text", maxlength: "64", autocomplete: "name",
    placeholder: T.namePh });
  nameBox.value = load("name") || "";
  var log = el("div", "tb-log", { role: "log", "aria-live": "polite" });
  var hello = el("p", "tb-hello");
  hello.textContent = T.hello;
  var status = el("p", "tb-status", { role: "status" });
  var form = el("form", "tb-form");
  var attach = el("button", "tb-attach", { type: "button", "aria-label": T.attach });
  attach.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5v9.5a4.5' +
    ' 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10a1.5 1.5 0 0 1-3 0V6.5"/></svg>';
  var picker = el("input", "tb-file", { type: "file", tabindex: "-1", "aria-hidden": "true",
    accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain" });
  var box = el("textarea", "tb-box", { rows: "1", maxlength: "4000", "aria-label": T.message,
    placeholder: T.type });
  var send = el("button", "tb-send", { type: "submit", "aria-label": T.send });
  send.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 20.5 21 12 3 3.5' +
    ' 5.5 12zM5.5 12H13"/></svg>';
  head.append(title, closer);
  nameRow.append(nameText, nameBox);
  log.append(hello);
  form.append(attach, picker, box, send);
  panel.append(head, nameRow, log, status, form);
  wrap.append(launch, panel);
  root.append(css, wrap);
  (inPage && me.parentNode ? me.parentNode : document.body).appendChild(host);

  // A token older than a day comes back renewed (X-Visitor-Token, or the socket's auth
  // answer): keep the newest, so an active visitor's token never expires. Only for the same
  // visitor: an answer still in flight when the widget started afresh must not bring them back.
  function renew(fresh) {
    if (!fresh || !token || fresh.split(".")[0] !== token.split(".")[0]) return;
    token = fresh;
    save("token", token);
  }
  function call(method, path, body, type) {
    var headers = { Authorization: "Bearer " + token };
    if (type) headers["Content-Type"] = type;
    return fetch(api + path, { method: method, headers: headers, body: body, mode: "cors",
      credentials: "omit" }).then(function (r) {
      renew(r.headers.get("X-Visitor-Token"));
      return r;
    });
  }
  function ensureToken() {
    if (token) return Promise.resolve();
    return fetch(api + "/visitors", { method: "POST", mode: "cors", credentials: "omit" })
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .then(function (j) { token = j.token; save("token", token); });
  }
  function forget() {
    token = null; save("token", null); lastId = 0; shown = {};
    log.replaceChildren(hello);
  }
  function loadHistory() {
    return ensureToken().then(function () { return call("GET", "/history?after=" + lastId); })
      .then(function (r) {
        if (r.status === 403) { forget(); return ensureToken().then(function () { return []; }); }
        if (!r.ok) throw r;
        return r.json().then(function (j) { return j.messages; });
      })
      .then(function (list) { list.forEach(add); });
  }
  function connect() {
    clearTimeout(timer);
    if (!token || (ws && ws.readyState < 2)) return;
    // The token goes in the first message, never in the URL (URLs end up in proxies' logs).
    var s = ws = new WebSocket(api.replace(/^http/, "ws") + "/ws?after=" + lastId);
    s.onopen = function () { s.send(JSON.stringify({ type: "auth", token: token })); };
    s.onmessage = function (e) {
      var d = JSON.parse(e.data);
      if (d.type === "auth") renew(d.token);
      if (d.type === "message") add(d.message);
      if (d.type === "ready") { tries = 0; status.textContent = ""; }
    };
    s.onclose = function (e) {
      if (ws !== s) return;
      ws = null;
      status.textContent = T.offline;
      if (e.code === 4403) forget();  // expired or not valid: start as a new visitor
      var wait = Math.min(30000, 500 * Math.pow(2, tries++)) * (0.75 + Math.random() / 2);
      timer = setTimeout(function () {
        // A refused handshake looks like any drop: ask over HTTP whether the token is still good.
        (tries > 2 || !token ? loadHistory() : Promise.resolve()).then(connect, connect);
      }, wait);
    };
  }

  function bubble(from) {
    var b = el("div", "tb-msg tb-" + from);
    log.appendChild(b);
    return b;
  }
  function fill(b, m) {
    b.replaceChildren();
    if (m.from === "operator") {
      var who = el("span", "tb-who");
      who.textContent = m.author || T.operator;
      b.append(who);
    }
    if (m.text) { var p = el("p", "tb-text"); p.textContent = m.text; b.append(p); }
    (m.attachments || []).forEach(function (a) { b.append(attachment(a)); });
    if (m.choices && m.choices.length) b.append(choices(m.choices));
    if (m.at) {
      var t = el("time", "tb-time", { datetime: m.at });
      // 24-hour HH:MM in every language, like the chat apps and the demo page.
      t.textContent = new Date(m.at).toLocaleTimeString(lang, { hour: "2-digit",
        minute: "2-digit", hourCycle: "h23" });
      b.append(t);
    }
  }
  // Buttons the bridge sent (a rating's stars): one press, then they are spent.
  function choices(list) {
    var row = el("div", "tb-choices", { role: "group" });
    list.forEach(function (c) {
      var button = el("button", "tb-choice", { type: "button",
        "aria-label": c.hint || c.label, title: c.hint || c.label });
      button.textContent = c.label;
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(row.children, function (n) { n.disabled = true; });
        button.setAttribute("aria-pressed", "true");
        ensureToken().then(function () {
          return call("POST", "/actions", JSON.stringify({ action: c.action }),
            "application/json");
        }).then(function (r) { if (!r.ok) throw r; }).catch(function () {
          Array.prototype.forEach.call(row.children, function (n) { n.disabled = false; });
          button.removeAttribute("aria-pressed");
        });
      });
      row.append(button);
    });
    return row;
  }
  function attachment(a) {
    var n = el("a", "tb-file-link", { download: a.name || "file" });
    n.textContent = (a.kind === "photo" ? "🖼 " : "📎 ") + (a.name || a.kind);
    if (!a.url) return n;
    call("GET", a.url.slice(a.url.indexOf("/files/"))).then(function (r) {
      if (!r.ok) throw r;
      return r.blob();
    }).then(function (blob) {
      var u = URL.createObjectURL(blob);
      n.href = u;
      if (a.kind === "photo") {
        var img = el("img", "tb-img", { src: u, alt: a.name || "" });
        n.replaceChildren(img);
        img.onload = scroll;
      }
    }).catch(function () { /* the name stays as a label */ });
    return n;
  }
  function add(m) {
    if (m.id && shown[m.id]) return;
    if (m.id) { shown[m.id] = 1; lastId = Math.max(lastId, m.id); }
    var b = m.client && pending[m.client];
    if (b) { delete pending[m.client]; b.classList.remove("tb-pending", "tb-failed"); }
    else b = bubble(m.from);
    fill(b, m);
    if (m.from === "operator" && !opened()) launch.classList.add("tb-unread");
    scroll();
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function opened() { return wrap.classList.contains("tb-open"); }

  function post(client, text, files, b, attempt) {
    var body = JSON.stringify({ id: client, text: text, name: nameBox.value.trim() || null,
      files: files, lang: lang });
    ensureToken().then(function () { return call("POST", "/messages", body, "application/json"); })
      .then(function (r) {
        if (r.ok) return r.json().then(function (j) {
          if (status.textContent !== T.offline) status.textContent = "";  // a 429's notice
          if (j.message) { j.message.client = client; add(j.message); }
          else { delete pending[client]; b.classList.remove("tb-pending"); }
        });
        if (r.status === 429 || r.status >= 500) {
          var after = Number(r.headers.get("Retry-After")) || Math.min(30, Math.pow(2, attempt));
          // A refusal meant for the visitor (too many new chats) says so, translated.
          if (r.status === 429) r.json().then(function (j) {
            status.textContent = j.notice || T.tooFast;
          }, function () { status.textContent = T.tooFast; });
          setTimeout(function () { post(client, text, files, b, attempt + 1); }, after * 1000);
          return;
        }
        if (r.status === 403) forget();
        failed(client, text, files, b);
      }, function () {
        setTimeout(function () { post(client, text, files, b, attempt + 1); },
          Math.min(30000, 1000 * Math.pow(2, attempt)));
      });
  }
  function failed(client, text, files, b) {
    b.classList.add("tb-failed");
    b.title = T.failed;
    b.onclick = function () {
      b.onclick = null;
      b.classList.remove("tb-failed");
      post(client, text, files, b, 0);
    };
  }
  function newId() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); })
      .join("");
  }
  function submit(text, files, label) {
    var client = newId(), b = bubble("visitor");
    b.classList.add("tb-pending");
    fill(b, { from: "visitor", text: text, attachments: label ? [{ kind: "document",
      name: label }] : [] });
    pending[client] = b;
    scroll();
    post(client, text, files, b, 0);
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = box.value.trim();
    if (!text) return;
    box.value = "";
    grow();
    submit(text, [], null);
    box.focus();
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send.click();
    }
  });
  function grow() { box.style.height = "auto"; box.style.height = Math.min(box.scrollHeight, 120) + "px"; }
  box.addEventListener("input", grow);
  nameBox.addEventListener("change", function () { save("name", nameBox.value.trim() || null); });
  attach.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    var f = picker.files && picker.files[0];
    picker.value = "";
    if (!f) return;
    ensureToken().then(function () {
      var h = { Authorization: "Bearer " + token, "Content-Type": f.type || "",
        "X-File-Name": encodeURIComponent(f.name) };
      return fetch(api + "/uploads?lang=" + lang, { method: "POST", headers: h, body: f,
        mode: "cors" });
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || r.status);
        submit(box.value.trim(), [j.file.id], j.file.name);
        box.value = "";
      });
    }).catch(function (err) { status.textContent = String(err.message || err); });
  });

  function open() {
    wrap.classList.add("tb-open");
    launch.setAttribute("aria-expanded", "true");
    launch.classList.remove("tb-unread");
    if (!started) {
      started = true;
      loadHistory().then(connect, function () { status.textContent = T.offline; connect(); });
    }
    if (!inPage) box.focus();
    scroll();
  }
  function close() {
    wrap.classList.remove("tb-open");
    launch.setAttribute("aria-expanded", "false");
    launch.focus();
  }
  launch.addEventListener("click", function () { opened() ? close() : open(); });
  closer.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && !inPage) close(); });
  if (inPage || load("open") === "1") open();
  window.addEventListener("pagehide", function () { save("open", opened() && !inPage ? "1" : null); });
})();
