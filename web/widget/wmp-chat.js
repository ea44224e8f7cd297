/*
 * West Midlands Police chat widget: one script, plain JavaScript, no framework.
 *
 * Embed it with one tag (settings as data- attributes; see docs/web-widget.md):
 *   <script src="/widget/wmp-chat.js" data-server-url="https://assistant.example"
 *           data-title="Ask West Midlands Police" data-initial-message="/greet" defer></script>
 * or with data-auto-init="false" and a call to window.WMPChat.init({serverUrl: ..., title: ...}).
 *
 * It loads, from beside itself: wmp-chat.css (its styles), config.json (the fallback contacts,
 * generated from catalogue/channels.yml) and ../vendor/socket.io.min.js (socket.io-client).
 *
 * Safety rules kept throughout this file:
 *  - nothing typed by the person or sent by the bot is ever inserted as HTML: only textContent,
 *    createTextNode and element properties; the only links made are http(s) and tel:;
 *  - the conversation is kept in sessionStorage only (gone when the tab closes), never localStorage;
 *  - "Leave this site quickly" clears it and replaces the page, so Back does not return to it.
 */
(function () {
  "use strict";

  if (window.WMPChat && window.WMPChat.version) {
    return; // the script was included twice
  }

  var VERSION = "1.0.0";
  var STORAGE_KEY = "wmpChat.v1";
  var MAX_STORED_MESSAGES = 200;
  var MAX_MESSAGE_CHARS = 1000; // the server trims longer messages to this length
  var TYPING_TIMEOUT_MS = 15000;
  var ID = "wmp-chat";

  var DEFAULTS = {
    // The Rasa server (its socket.io channel). Empty: use serverUrl from config.json.
    serverUrl: "",
    socketPath: "/socket.io",
    title: "Ask West Midlands Police",
    launcherLabel: "Chat with us",
    // Sent (not shown) when the chat is first opened in a tab, so the greeting appears.
    initialMessage: "/greet",
    // Relative URLs are resolved against this script's own URL.
    configUrl: "config.json",
    stylesheetUrl: "wmp-chat.css",
    socketIoUrl: "../vendor/socket.io.min.js",
    // Where "Leave this site quickly" goes, relative to the page.
    quickExitUrl: "/neutral.html",
    autoInit: true
  };

  var currentScript = document.currentScript;
  var scriptUrl = currentScript && currentScript.src ? currentScript.src : document.baseURI;

  var settings = null;
  var config = {};
  var state = null;
  var ui = null;
  var socket = null;
  var confirmed = false;
  var greetingSent = false;
  var exiting = false;
  var outbox = [];
  var typingTimer = null;
  var socketIoReady = null;
  var started = false;

  // ---------------------------------------------------------------- settings

  function readDataSettings(element) {
    if (!element || !element.dataset) {
      return {};
    }
    var data = element.dataset;
    var found = {};
    var names = ["serverUrl", "socketPath", "title", "launcherLabel", "initialMessage", "configUrl",
      "stylesheetUrl", "socketIoUrl", "quickExitUrl"];
    names.forEach(function (name) {
      if (typeof data[name] === "string") {
        found[name] = data[name];
      }
    });
    if (data.autoInit === "false") {
      found.autoInit = false;
    }
    return found;
  }

  function merge() {
    var result = {};
    for (var i = 0; i < arguments.length; i += 1) {
      var source = arguments[i] || {};
      Object.keys(source).forEach(function (key) {
        if (Object.prototype.hasOwnProperty.call(DEFAULTS, key) && source[key] !== undefined && source[key] !== null) {
          result[key] = source[key];
        }
      });
    }
    return result;
  }

  function resolve(url) {
    return new URL(url, scriptUrl).href;
  }

  function isHttpUrl(value) {
    if (typeof value !== "string") {
      return false;
    }
    try {
      var url = new URL(value);
      return url.protocol === "https:" || url.protocol === "http:";
    } catch (error) {
      return false;
    }
  }

  // ---------------------------------------------------------------- storage (sessionStorage only)

  function freshState() {
    return { sessionId: null, messages: [], open: false };
  }

  function cleanReplies(replies) {
    if (!Array.isArray(replies)) {
      return [];
    }
    return replies.filter(function (reply) {
      return reply && typeof reply.title === "string" && reply.title.trim() && typeof reply.payload === "string";
    }).map(function (reply) {
      return { title: reply.title, payload: reply.payload };
    });
  }

  function loadState() {
    var loaded = null;
    try {
      loaded = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
    } catch (error) {
      loaded = null;
    }
    var clean = freshState();
    if (!loaded || typeof loaded !== "object") {
      return clean;
    }
    if (typeof loaded.sessionId === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(loaded.sessionId)) {
      clean.sessionId = loaded.sessionId;
    }
    clean.open = loaded.open === true;
    if (Array.isArray(loaded.messages)) {
      clean.messages = loaded.messages.filter(function (message) {
        return message && (message.from === "user" || message.from === "bot") && typeof message.text === "string";
      }).map(function (message) {
        var replies = cleanReplies(message.replies);
        return replies.length ? { from: message.from, text: message.text, replies: replies } : { from: message.from, text: message.text };
      }).slice(-MAX_STORED_MESSAGES);
    }
    return clean;
  }

  function saveState() {
    if (exiting) {
      return;
    }
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) {
      // Storage full or disabled: the chat still works, it just won't survive a reload.
    }
  }

  // ---------------------------------------------------------------- safe DOM helpers

  function el(tag, className, text) {
    var element = document.createElement(tag);
    if (className) {
      element.className = className;
    }
    if (text) {
      element.textContent = text;
    }
    return element;
  }

  function visuallyHidden(text) {
    return el("span", "wmp-chat__sr", text);
  }

  function externalLink(href, text) {
    var link = el("a", "wmp-chat__link", text);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.appendChild(visuallyHidden(" (opens in a new tab)"));
    return link;
  }

  function phoneLink(number) {
    var link = el("a", "wmp-chat__link", number);
    link.href = "tel:" + number.replace(/[^0-9]/g, "");
    return link;
  }

  function icon(pathData) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // ---------------------------------------------------------------- bot text: links and phone numbers

  var URL_PATTERN = /https?:\/\/[^\s<>"'`]+/gi;

  function trimUrl(candidate) {
    var url = candidate;
    for (;;) {
      var last = url.charAt(url.length - 1);
      if (".,;:!?".indexOf(last) !== -1) {
        url = url.slice(0, -1);
      } else if (last === ")" && (url.split(")").length > url.split("(").length)) {
        url = url.slice(0, -1);
      } else {
        return url;
      }
    }
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function phonePattern() {
    var phones = Array.isArray(config.phones) ? config.phones.filter(function (phone) {
      return typeof phone === "string" && /^[0-9][0-9 ]*$/.test(phone);
    }) : [];
    if (!phones.length) {
      return null;
    }
    phones.sort(function (a, b) { return b.length - a.length; }); // "18001 101" before "101"
    return new RegExp(phones.map(function (phone) {
      return escapeRegExp(phone).replace(/ /g, "[ \\u00a0]");
    }).join("|"), "g");
  }

  function isDigit(character) {
    return character >= "0" && character <= "9";
  }

  // Appends plain text to parent, with the configured phone numbers (only whole numbers) as tel: links.
  function appendTextWithPhones(parent, text, pattern) {
    var position = 0;
    if (pattern) {
      pattern.lastIndex = 0;
      var match;
      while ((match = pattern.exec(text)) !== null) {
        var start = match.index;
        var end = start + match[0].length;
        if ((start > 0 && isDigit(text.charAt(start - 1))) || isDigit(text.charAt(end))) {
          pattern.lastIndex = start + 1;
          continue;
        }
        if (start > position) {
          parent.appendChild(document.createTextNode(text.slice(position, start)));
        }
        parent.appendChild(phoneLink(match[0]));
        position = end;
      }
    }
    if (position < text.length) {
      parent.appendChild(document.createTextNode(text.slice(position)));
    }
  }

  function appendBotText(parent, text) {
    var pattern = phonePattern();
    var position = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var url = trimUrl(match[0]);
      if (!isHttpUrl(url)) {
        continue;
      }
      appendTextWithPhones(parent, text.slice(position, match.index), pattern);
      parent.appendChild(externalLink(url, url));
      position = match.index + url.length;
      URL_PATTERN.lastIndex = position;
    }
    appendTextWithPhones(parent, text.slice(position), pattern);
  }

  // ---------------------------------------------------------------- the conversation

  function renderReplies(replies) {
    var group = el("div", "wmp-chat__replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    replies.forEach(function (reply) {
      var button = el("button", "wmp-chat__reply", reply.title);
      button.type = "button";
      button.addEventListener("click", function () {
        send(reply.payload, reply.title);
        ui.input.focus();
      });
      group.appendChild(button);
    });
    return group;
  }

  function renderMessage(message) {
    var item = el("div", "wmp-chat__msg wmp-chat__msg--" + message.from);
    if (message.text) {
      var bubble = el("p", "wmp-chat__bubble");
      bubble.appendChild(visuallyHidden(message.from === "user" ? "You said: " : "Assistant: "));
      if (message.from === "bot") {
        appendBotText(bubble, message.text);
      } else {
        bubble.appendChild(document.createTextNode(message.text));
      }
      item.appendChild(bubble);
    }
    if (message.replies && message.replies.length) {
      item.appendChild(renderReplies(message.replies));
    }
    return item;
  }

  function scrollToEnd() {
    if (ui) {
      ui.log.scrollTop = ui.log.scrollHeight;
    }
  }

  function addMessage(message) {
    state.messages.push(message);
    if (state.messages.length > MAX_STORED_MESSAGES) {
      state.messages.splice(0, state.messages.length - MAX_STORED_MESSAGES);
      if (ui.log.firstChild) {
        ui.log.removeChild(ui.log.firstChild);
      }
    }
    saveState();
    ui.log.appendChild(renderMessage(message));
    scrollToEnd();
  }

  // Suggested replies belong to the latest answer only: they go once the person says something.
  function clearReplies() {
    state.messages.forEach(function (message) {
      delete message.replies;
    });
    var groups = ui.log.querySelectorAll(".wmp-chat__replies");
    for (var i = 0; i < groups.length; i += 1) {
      groups[i].parentNode.removeChild(groups[i]);
    }
  }

  function showTyping() {
    ui.typing.hidden = false;
    ui.typingText.textContent = "The assistant is typing";
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollToEnd();
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    if (ui) {
      ui.typing.hidden = true;
      ui.typingText.textContent = "";
    }
  }

  function flush() {
    if (!socket || !confirmed || !state.sessionId) {
      return;
    }
    while (outbox.length) {
      socket.emit("user_uttered", { message: outbox.shift(), session_id: state.sessionId });
      showTyping();
    }
  }

  // payload: what the server gets; shown: what the conversation shows (a button's title).
  function send(payload, shown) {
    if (typeof payload !== "string" || !payload.trim()) {
      return;
    }
    clearReplies();
    addMessage({ from: "user", text: shown.trim().slice(0, MAX_MESSAGE_CHARS) });
    outbox.push(payload.slice(0, MAX_MESSAGE_CHARS));
    flush();
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    var text = typeof data.text === "string" ? data.text.trim() : "";
    var replies = cleanReplies(data.quick_replies || data.buttons);
    if (!text && !replies.length) {
      return;
    }
    hideTyping();
    var message = { from: "bot", text: text };
    if (replies.length) {
      message.replies = replies;
    }
    addMessage(message);
  }

  // ---------------------------------------------------------------- connection

  var STATUS_TEXT = {
    connecting: "Connecting\u2026",
    online: "Connected",
    offline: "Not connected, trying again\u2026"
  };

  function setStatus(status) {
    if (!ui) {
      return;
    }
    ui.root.setAttribute("data-status", status);
    ui.status.textContent = STATUS_TEXT[status];
    ui.offline.hidden = status !== "offline";
    if (status === "offline") {
      hideTyping();
    }
  }

  function loadScript(src) {
    return new Promise(function (resolveLoad, rejectLoad) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.async = true;
      tag.onload = function () { resolveLoad(); };
      tag.onerror = function () { rejectLoad(new Error("could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  function loadSocketIo() {
    if (!socketIoReady) {
      socketIoReady = typeof window.io === "function" ? Promise.resolve() : loadScript(resolve(settings.socketIoUrl));
    }
    return socketIoReady;
  }

  function serverUrl() {
    var url = settings.serverUrl || config.serverUrl;
    return isHttpUrl(url) ? url : null;
  }

  function connect() {
    if (socket || exiting) {
      return;
    }
    var url = serverUrl();
    if (!url) {
      setStatus("offline");
      return;
    }
    setStatus("connecting");
    loadSocketIo().then(function () {
      if (socket || exiting) {
        return;
      }
      socket = window.io(url, {
        path: settings.socketPath || config.socketPath || "/socket.io",
        reconnection: true,
        reconnectionDelayMax: 10000
      });
      socket.on("connect", function () {
        confirmed = false;
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (data) {
        var id = typeof data === "string" ? data : data && data.session_id;
        if (typeof id !== "string" || !id) {
          return;
        }
        state.sessionId = id;
        confirmed = true;
        saveState();
        setStatus("online");
        if (!greetingSent && state.messages.length === 0 && settings.initialMessage) {
          greetingSent = true;
          socket.emit("user_uttered", { message: settings.initialMessage, session_id: id });
          showTyping();
        }
        flush();
      });
      socket.on("bot_uttered", onBotMessage);
      socket.on("connect_error", function () {
        confirmed = false;
        setStatus("offline");
      });
      socket.on("disconnect", function (reason) {
        confirmed = false;
        if (exiting) {
          return;
        }
        setStatus("offline");
        if (reason === "io server disconnect") {
          socket.connect(); // the server closed it: socket.io only reconnects by itself otherwise
        }
      });
    }, function () {
      setStatus("offline"); // socket.io-client could not be loaded
    });
  }

  // ---------------------------------------------------------------- open, close, quick exit

  function isOpen() {
    return !!ui && !ui.panel.hidden;
  }

  function open(options) {
    if (!ui || exiting) {
      return;
    }
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.root.classList.add("wmp-chat--open");
    document.documentElement.classList.add("wmp-chat-open");
    state.open = true;
    saveState();
    connect();
    scrollToEnd();
    if (!options || options.focus !== false) {
      ui.input.focus();
    }
  }

  function close() {
    if (!ui) {
      return;
    }
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.root.classList.remove("wmp-chat--open");
    document.documentElement.classList.remove("wmp-chat-open");
    state.open = false;
    saveState();
    ui.launcher.focus();
  }

  function quickExit() {
    exiting = true;
    try {
      window.sessionStorage.clear();
    } catch (error) {
      // nothing stored, or storage disabled
    }
    if (socket) {
      socket.off();
      socket.disconnect();
      socket = null;
    }
    outbox = [];
    if (ui && ui.root.parentNode) {
      ui.root.parentNode.removeChild(ui.root);
    }
    ui = null;
    document.documentElement.classList.remove("wmp-chat-open");
    // replace, not assign: Back must not bring this page back.
    window.location.replace(settings ? settings.quickExitUrl : DEFAULTS.quickExitUrl);
  }

  // ---------------------------------------------------------------- building the widget

  function renderOffline(box) {
    box.appendChild(el("p", "wmp-chat__offline-title", "The chat can't connect right now."));
    box.appendChild(el("p", null, "It will keep trying, and send what you type when it is back. You can also contact us:"));
    var channels = Array.isArray(config.fallbacks) ? config.fallbacks : [];
    var list = el("ul", "wmp-chat__offline-list");
    channels.forEach(function (channel) {
      if (!channel || typeof channel.name !== "string") {
        return;
      }
      var item = el("li");
      if (typeof channel.phone === "string" && /^[0-9][0-9 ]*$/.test(channel.phone)) {
        item.appendChild(document.createTextNode(channel.name + ": "));
        item.appendChild(phoneLink(channel.phone));
      } else if (isHttpUrl(channel.link)) {
        item.appendChild(externalLink(channel.link, channel.name));
      } else {
        return;
      }
      if (typeof channel.description === "string" && channel.description) {
        item.appendChild(document.createTextNode(". " + channel.description));
      }
      list.appendChild(item);
    });
    if (list.childNodes.length) {
      box.appendChild(list);
    } else {
      box.appendChild(el("p", null, "Please use the other ways to contact us on this website."));
    }
  }

  function build() {
    var root = el("div", "wmp-chat");
    root.id = ID;

    var launcher = el("button", "wmp-chat__launcher");
    launcher.id = ID + "-launcher";
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", ID + "-panel");
    launcher.appendChild(icon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2zm3 6v2h10V9H7zm0-3v2h10V6H7zm0 6v2h7v-2H7z"));
    launcher.appendChild(el("span", "wmp-chat__launcher-label", settings.launcherLabel));
    if (!/chat/i.test(settings.launcherLabel)) {
      launcher.appendChild(visuallyHidden(" (chat)"));
    }

    var panel = el("section", "wmp-chat__panel");
    panel.id = ID + "-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", ID + "-title");

    var exitBar = el("div", "wmp-chat__exitbar");
    var exitButton = el("button", "wmp-chat__exit", "Leave this site quickly");
    exitButton.type = "button";
    exitBar.appendChild(exitButton);

    var header = el("div", "wmp-chat__header");
    var heading = el("div", "wmp-chat__heading");
    var title = el("h2", "wmp-chat__title", settings.title);
    title.id = ID + "-title";
    var status = el("p", "wmp-chat__status");
    status.id = ID + "-status";
    status.setAttribute("role", "status");
    heading.appendChild(title);
    heading.appendChild(status);
    var closeButton = el("button", "wmp-chat__close");
    closeButton.type = "button";
    closeButton.setAttribute("aria-label", "Close chat");
    closeButton.appendChild(icon("M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z"));
    header.appendChild(heading);
    header.appendChild(closeButton);

    var log = el("div", "wmp-chat__log");
    log.id = ID + "-log";
    log.setAttribute("role", "log");
    log.setAttribute("aria-label", "Conversation");
    log.tabIndex = 0; // keyboard users can scroll it
    state.messages.forEach(function (message) {
      log.appendChild(renderMessage(message));
    });
    // Set after the restored messages are in, so a reload does not read them all out again.
    log.setAttribute("aria-live", "polite");

    var typing = el("div", "wmp-chat__typing");
    typing.hidden = true;
    typing.setAttribute("role", "status");
    var dots = el("span", "wmp-chat__dots");
    dots.setAttribute("aria-hidden", "true");
    for (var i = 0; i < 3; i += 1) {
      dots.appendChild(el("span", "wmp-chat__dot"));
    }
    var typingText = el("span", "wmp-chat__sr");
    typing.appendChild(dots);
    typing.appendChild(typingText);

    var offline = el("div", "wmp-chat__offline");
    offline.id = ID + "-offline";
    offline.hidden = true;
    renderOffline(offline);

    var form = el("form", "wmp-chat__form");
    form.noValidate = true;
    var label = el("label", "wmp-chat__sr", "Type your message");
    label.htmlFor = ID + "-input";
    var row = el("div", "wmp-chat__row");
    var input = el("input", "wmp-chat__input");
    input.id = ID + "-input";
    input.type = "text";
    input.name = "message";
    input.autocomplete = "off";
    input.maxLength = MAX_MESSAGE_CHARS;
    input.placeholder = "Type your question";
    input.setAttribute("enterkeyhint", "send");
    var sendButton = el("button", "wmp-chat__send", "Send");
    sendButton.type = "submit";
    row.appendChild(input);
    row.appendChild(sendButton);
    form.appendChild(label);
    form.appendChild(row);

    panel.appendChild(exitBar);
    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(offline);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);

    launcher.addEventListener("click", function () {
      if (isOpen()) {
        close();
      } else {
        open();
      }
    });
    closeButton.addEventListener("click", close);
    exitButton.addEventListener("click", quickExit);
    root.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && isOpen()) {
        event.preventDefault();
        close();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value;
      if (!text.trim()) {
        input.focus();
        return;
      }
      input.value = "";
      send(text, text);
      input.focus();
    });

    ui = {
      root: root, launcher: launcher, panel: panel, status: status, log: log, typing: typing,
      typingText: typingText, offline: offline, input: input
    };
    setStatus("connecting");
    document.body.appendChild(root);
  }

  // A page's own quick exit (any element with data-wmp-quick-exit) also clears the chat.
  function wirePageQuickExit() {
    document.addEventListener("click", function (event) {
      var target = event.target && event.target.closest ? event.target.closest("[data-wmp-quick-exit]") : null;
      if (target) {
        event.preventDefault();
        quickExit();
      }
    });
  }

  function loadStylesheet() {
    return new Promise(function (done) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = resolve(settings.stylesheetUrl);
      link.onload = function () { done(); };
      link.onerror = function () { done(); };
      document.head.appendChild(link);
    });
  }

  function loadConfig() {
    return window.fetch(resolve(settings.configUrl), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (data) { return data && typeof data === "object" ? data : {}; })
      .catch(function () { return {}; });
  }

  function start() {
    state = loadState();
    wirePageQuickExit();
    Promise.all([loadStylesheet(), loadConfig()]).then(function (results) {
      config = results[1];
      if (exiting) {
        return;
      }
      build();
      loadSocketIo().catch(function () { /* reported when connecting */ });
      if (state.open) {
        open({ focus: false }); // a reload keeps the chat open, without taking the focus
      }
      document.documentElement.setAttribute("data-wmp-chat", "ready");
    });
  }

  function init(options) {
    if (started) {
      return window.WMPChat;
    }
    started = true;
    settings = merge(DEFAULTS, readDataSettings(currentScript), options);
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
    return window.WMPChat;
  }

  window.WMPChat = {
    version: VERSION,
    init: init,
    open: function () { open(); },
    close: close,
    quickExit: quickExit
  };

  if (readDataSettings(currentScript).autoInit !== false) {
    init();
  }
})();
