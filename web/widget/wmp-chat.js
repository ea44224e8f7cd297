/*
 * West Midlands Police chat widget: one script, plain JavaScript, no framework.
 *
 * Embed it with one tag (settings as data- attributes; see docs/web-widget.md):
 *   <script src="/widget/wmp-chat.js" data-server-url="https://assistant.example"
 *           data-title="Ask West Midlands Police" data-initial-message="/greet" defer></script>
 * or with data-auto-init="false" and a call to window.WMPChat.init({serverUrl: ..., title: ...}).
 *
 * It loads, from beside itself: wmp-chat.css (its styles), config.json (the fallback contacts and
 * the languages with their labels, generated from the catalogue) and ../vendor/socket.io.min.js
 * (socket.io-client).
 *
 * Languages: the "Language" control in the header sends /change_language{"language": "CODE"} (not
 * shown) and relabels the widget from config.json's `languages`; a bot message in another language
 * (the server detected it) relabels it too, unless the person chose a language in this tab. Every
 * message element carries lang and dir.
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

  var VERSION = "1.1.0";
  var STORAGE_KEY = "wmpChat.v1";
  var MAX_STORED_MESSAGES = 200;
  var MAX_MESSAGE_CHARS = 1000; // the server trims longer messages to this length
  var TYPING_TIMEOUT_MS = 15000;
  var ID = "wmp-chat";
  var ENGLISH = "en";
  var LANGUAGE_TAG = /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/;

  // The English labels, used when config.json has no `languages` (its English entry says the same).
  var ENGLISH_LABELS = {
    title: "Ask West Midlands Police",
    launcher: "Chat with us",
    close: "Close chat",
    conversation: "Conversation",
    suggested: "Suggested replies",
    you_said: "You said:",
    assistant: "Assistant:",
    typing: "The assistant is typing",
    connecting: "Connecting\u2026",
    online: "Connected",
    offline: "Not connected, trying again\u2026",
    offline_title: "The chat can't connect right now.",
    offline_text: "It will keep trying, and send what you type when it is back. You can also contact us:",
    input_label: "Type your message",
    placeholder: "Type your question",
    send: "Send",
    quick_exit: "Leave this site quickly",
    language: "Language"
  };

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
  var languages = []; // from config.json: [{code, name, dir, labels}], English first

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

  // language: the widget's current language; chosen: the person picked it in this tab (then a bot
  // message in another language does not switch the labels).
  function freshState() {
    return { sessionId: null, messages: [], open: false, language: ENGLISH, chosen: false };
  }

  function isLanguageTag(value) {
    return typeof value === "string" && value.length <= 35 && LANGUAGE_TAG.test(value);
  }

  function isDirection(value) {
    return value === "ltr" || value === "rtl";
  }

  // A stored or received message, with only the fields the widget knows, each checked.
  function cleanMessage(message) {
    var clean = { from: message.from, text: message.text };
    if (isLanguageTag(message.lang)) {
      clean.lang = message.lang;
    }
    if (message.from === "bot" && isDirection(message.dir)) {
      clean.dir = message.dir;
    }
    var replies = cleanReplies(message.replies);
    if (replies.length) {
      clean.replies = replies;
    }
    return clean;
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
    if (isLanguageTag(loaded.language)) {
      clean.language = loaded.language;
      clean.chosen = loaded.chosen === true;
    }
    if (Array.isArray(loaded.messages)) {
      clean.messages = loaded.messages.filter(function (message) {
        return message && (message.from === "user" || message.from === "bot") && typeof message.text === "string";
      }).map(cleanMessage).slice(-MAX_STORED_MESSAGES);
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

  // ---------------------------------------------------------------- languages (from config.json)

  function englishLanguage() {
    return { code: ENGLISH, name: "English", dir: "ltr", labels: ENGLISH_LABELS };
  }

  // config.json's `languages`, checked; every label missing from one is the English label.
  function readLanguages(list) {
    var found = [];
    var seen = {};
    (Array.isArray(list) ? list : []).forEach(function (item) {
      if (!item || !isLanguageTag(item.code) || seen[item.code] || typeof item.name !== "string" || !item.name.trim()) {
        return;
      }
      var labels = {};
      var given = item.labels && typeof item.labels === "object" ? item.labels : {};
      Object.keys(ENGLISH_LABELS).forEach(function (key) {
        labels[key] = typeof given[key] === "string" && given[key].trim() ? given[key] : ENGLISH_LABELS[key];
      });
      seen[item.code] = true;
      found.push({ code: item.code, name: item.name, dir: isDirection(item.dir) ? item.dir : "ltr", labels: labels });
    });
    if (!seen[ENGLISH]) {
      found.unshift(englishLanguage());
    }
    return found;
  }

  function findLanguage(code) {
    for (var i = 0; i < languages.length; i += 1) {
      if (languages[i].code === code) {
        return languages[i];
      }
    }
    return null;
  }

  function currentLanguage() {
    return findLanguage(state.language) || findLanguage(ENGLISH) || englishLanguage();
  }

  // The current language's labels; in English the page's own title and launcher label (settings).
  function labels() {
    var language = currentLanguage();
    var result = {};
    Object.keys(language.labels).forEach(function (key) {
      result[key] = language.labels[key];
    });
    if (language.code === ENGLISH) {
      result.title = settings.title;
      result.launcher = settings.launcherLabel;
    }
    return result;
  }

  function setLanguageAttributes(element, lang, dir) {
    if (lang) {
      element.setAttribute("lang", lang);
    }
    if (dir) {
      element.setAttribute("dir", dir);
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
    var hint = visuallyHidden(" (opens in a new tab)");
    hint.setAttribute("lang", ENGLISH); // not among the translated labels: said in English
    link.appendChild(hint);
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

  // The payload of a "choose this language" button (the server's language list), or null.
  var CHANGE_LANGUAGE = /^\/change_language\{\s*"language"\s*:\s*"([A-Za-z0-9-]{2,35})"\s*\}$/;

  function chosenLanguageOf(payload) {
    var match = CHANGE_LANGUAGE.exec(payload);
    return match && findLanguage(match[1]) ? match[1] : null;
  }

  // The group's label is in the widget's language (lang on the group); the buttons in the message's.
  function renderReplies(replies, lang, dir) {
    var current = currentLanguage();
    var group = el("div", "wmp-chat__replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", labels().suggested);
    setLanguageAttributes(group, current.code, current.dir);
    replies.forEach(function (reply) {
      var button = el("button", "wmp-chat__reply", reply.title);
      button.type = "button";
      var chosen = chosenLanguageOf(reply.payload);
      if (chosen) {
        setLanguageAttributes(button, chosen, findLanguage(chosen).dir); // a language named in itself
      } else {
        setLanguageAttributes(button, lang, dir);
      }
      button.addEventListener("click", function () {
        if (chosen) {
          useLanguage(chosen, true);
        }
        send(reply.payload, reply.title, chosen);
        ui.input.focus();
      });
      group.appendChild(button);
    });
    return group;
  }

  // The visually hidden "Assistant:" / "You said:", in the widget's language (its own lang and dir).
  function who(from) {
    var current = currentLanguage();
    var text = from === "user" ? labels().you_said : labels().assistant;
    var prefix = visuallyHidden(text + " ");
    prefix.className += " wmp-chat__who";
    prefix.setAttribute("data-from", from);
    setLanguageAttributes(prefix, current.code, current.dir);
    return prefix;
  }

  // Bot messages: their own lang and dir (the current language's when the server sent none).
  // The person's: the current language, and dir="auto" (the browser takes it from the text).
  function messageLanguage(message) {
    var current = currentLanguage();
    var lang = message.lang || current.code;
    if (message.from === "user") {
      return { lang: lang, dir: "auto" };
    }
    var known = findLanguage(lang);
    return { lang: lang, dir: message.dir || (known ? known.dir : current.dir) };
  }

  function renderMessage(message) {
    var item = el("div", "wmp-chat__msg wmp-chat__msg--" + message.from);
    var language = messageLanguage(message);
    setLanguageAttributes(item, language.lang, language.dir);
    if (message.text) {
      var bubble = el("p", "wmp-chat__bubble");
      bubble.appendChild(who(message.from));
      if (message.from === "bot") {
        appendBotText(bubble, message.text);
      } else {
        bubble.appendChild(document.createTextNode(message.text));
      }
      item.appendChild(bubble);
    }
    if (message.replies && message.replies.length) {
      item.appendChild(renderReplies(message.replies, language.lang, language.dir));
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
    ui.typingText.textContent = labels().typing;
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

  // payload: what the server gets; shown: what the conversation shows (a button's title), or
  // nothing (a message of the widget's own, such as the language control's); lang: what it is in.
  function send(payload, shown, lang) {
    if (typeof payload !== "string" || !payload.trim()) {
      return;
    }
    clearReplies();
    if (typeof shown === "string" && shown.trim()) {
      addMessage({ from: "user", text: shown.trim().slice(0, MAX_MESSAGE_CHARS), lang: lang || state.language });
    }
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
    var message = cleanMessage({ from: "bot", text: text, lang: data.lang, dir: data.dir, replies: replies });
    // The server answers in the language it detected in what the person typed: follow it, unless
    // the person chose a language in this tab.
    if (message.lang && message.lang !== state.language && !state.chosen && findLanguage(message.lang)) {
      useLanguage(message.lang, false);
    }
    addMessage(message);
  }

  // ---------------------------------------------------------------- connection

  function setStatus(status) {
    if (!ui) {
      return;
    }
    ui.root.setAttribute("data-status", status);
    ui.status.textContent = labels()[status];
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
    var text = labels();
    while (box.firstChild) {
      box.removeChild(box.firstChild);
    }
    box.appendChild(el("p", "wmp-chat__offline-title", text.offline_title));
    box.appendChild(el("p", null, text.offline_text));
    var channels = Array.isArray(config.fallbacks) ? config.fallbacks : [];
    var list = el("ul", "wmp-chat__offline-list");
    // The contacts' names and descriptions come from the English catalogue.
    setLanguageAttributes(list, ENGLISH, "ltr");
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
      var other = el("p", null, "Please use the other ways to contact us on this website.");
      setLanguageAttributes(other, ENGLISH, "ltr");
      box.appendChild(other);
    }
  }

  // ---------------------------------------------------------------- the language control

  function isLanguageListOpen() {
    return !!ui && !ui.languages.hidden;
  }

  function showLanguageList(show) {
    if (!ui) {
      return;
    }
    ui.languages.hidden = !show;
    ui.languageToggle.setAttribute("aria-expanded", show ? "true" : "false");
  }

  // Switch the widget's labels to a language of config.json; chosen: the person picked it.
  function useLanguage(code, chosen) {
    if (!findLanguage(code)) {
      return;
    }
    state.language = code;
    if (chosen) {
      state.chosen = true;
    }
    saveState();
    relabel();
  }

  // From the language control: relabel, and tell the server (not shown in the conversation).
  function chooseLanguage(code) {
    useLanguage(code, true);
    showLanguageList(false);
    send('/change_language{"language": "' + code + '"}');
    ui.input.focus();
  }

  function renderLanguageList(list) {
    languages.forEach(function (language) {
      var item = el("li", "wmp-chat__languages-item");
      var button = el("button", "wmp-chat__language", language.name);
      button.type = "button";
      button.setAttribute("data-language", language.code);
      setLanguageAttributes(button, language.code, language.dir); // each named in itself
      button.addEventListener("click", function () {
        chooseLanguage(language.code);
      });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  // Every text of the widget's own, in the current language (the conversation keeps its own).
  function relabel() {
    if (!ui) {
      return;
    }
    var current = currentLanguage();
    var text = labels();
    setLanguageAttributes(ui.panel, current.code, current.dir);
    setLanguageAttributes(ui.launcher, current.code, current.dir);
    ui.launcherLabel.textContent = text.launcher;
    ui.launcherHint.hidden = current.code !== ENGLISH || /chat/i.test(text.launcher);
    ui.title.textContent = text.title;
    ui.closeButton.setAttribute("aria-label", text.close);
    ui.exitButton.textContent = text.quick_exit;
    ui.log.setAttribute("aria-label", text.conversation);
    ui.inputLabel.textContent = text.input_label;
    ui.input.placeholder = text.placeholder;
    ui.sendButton.textContent = text.send;
    ui.languageLabel.textContent = text.language;
    ui.languageName.textContent = current.name;
    ui.languageList.setAttribute("aria-label", text.language);
    var options = ui.languageList.querySelectorAll("button[data-language]");
    for (var i = 0; i < options.length; i += 1) {
      if (options[i].getAttribute("data-language") === current.code) {
        options[i].setAttribute("aria-current", "true");
      } else {
        options[i].removeAttribute("aria-current");
      }
    }
    var prefixes = ui.log.querySelectorAll(".wmp-chat__who");
    for (var j = 0; j < prefixes.length; j += 1) {
      prefixes[j].textContent = (prefixes[j].getAttribute("data-from") === "user" ? text.you_said : text.assistant) + " ";
      setLanguageAttributes(prefixes[j], current.code, current.dir);
    }
    var groups = ui.log.querySelectorAll(".wmp-chat__replies");
    for (var k = 0; k < groups.length; k += 1) {
      groups[k].setAttribute("aria-label", text.suggested);
      setLanguageAttributes(groups[k], current.code, current.dir);
    }
    if (!ui.typing.hidden) {
      ui.typingText.textContent = text.typing;
    }
    setStatus(ui.root.getAttribute("data-status") || "connecting");
    renderOffline(ui.offline);
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
    var launcherLabel = el("span", "wmp-chat__launcher-label");
    var launcherHint = visuallyHidden(" (chat)");
    launcher.appendChild(launcherLabel);
    launcher.appendChild(launcherHint);

    var panel = el("section", "wmp-chat__panel");
    panel.id = ID + "-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", ID + "-title");

    var exitBar = el("div", "wmp-chat__exitbar");
    var exitButton = el("button", "wmp-chat__exit");
    exitButton.type = "button";
    exitBar.appendChild(exitButton);

    var header = el("div", "wmp-chat__header");
    var heading = el("div", "wmp-chat__heading");
    var title = el("h2", "wmp-chat__title");
    title.id = ID + "-title";
    var status = el("p", "wmp-chat__status");
    status.id = ID + "-status";
    status.setAttribute("role", "status");
    heading.appendChild(title);
    heading.appendChild(status);

    // The language control: a button that shows the list of languages, each named in itself.
    var languageToggle = el("button", "wmp-chat__lang-toggle");
    languageToggle.id = ID + "-language";
    languageToggle.type = "button";
    languageToggle.setAttribute("aria-expanded", "false");
    languageToggle.setAttribute("aria-controls", ID + "-languages");
    languageToggle.appendChild(icon("M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm6.9 6h-2.9a15.7 15.7 0 0 0-1.4-3.6A8 8 0 0 1 18.9 8zM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4zM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4H4.3zm.8 2H8c.3 1.3.8 2.5 1.4 3.6A8 8 0 0 1 5.1 16zM8 8H5.1a8 8 0 0 1 4.3-3.6C8.8 5.5 8.3 6.7 8 8zm4 12c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4zm.3 5.6c.6-1.1 1.1-2.3 1.4-3.6h2.9a8 8 0 0 1-4.3 3.6zm1.8-5.6a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4h-3.4z"));
    var languageLabel = el("span", "wmp-chat__lang-label");
    var languageName = el("span", "wmp-chat__lang-name");
    var languageText = el("span", "wmp-chat__lang-text");
    languageText.appendChild(languageLabel);
    languageText.appendChild(document.createTextNode(": "));
    languageText.appendChild(languageName);
    languageToggle.appendChild(languageText);
    languageToggle.hidden = languages.length < 2;
    heading.appendChild(languageToggle);

    var closeButton = el("button", "wmp-chat__close");
    closeButton.type = "button";
    closeButton.appendChild(icon("M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z"));
    header.appendChild(heading);
    header.appendChild(closeButton);

    var languagesBox = el("div", "wmp-chat__languages");
    languagesBox.id = ID + "-languages";
    languagesBox.hidden = true;
    var languageList = el("ul", "wmp-chat__languages-list");
    renderLanguageList(languageList);
    languagesBox.appendChild(languageList);

    var log = el("div", "wmp-chat__log");
    log.id = ID + "-log";
    log.setAttribute("role", "log");
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

    var form = el("form", "wmp-chat__form");
    form.noValidate = true;
    var label = el("label", "wmp-chat__sr");
    label.htmlFor = ID + "-input";
    var row = el("div", "wmp-chat__row");
    var input = el("input", "wmp-chat__input");
    input.id = ID + "-input";
    input.type = "text";
    input.name = "message";
    input.autocomplete = "off";
    input.maxLength = MAX_MESSAGE_CHARS;
    input.dir = "auto"; // what the person types sets its direction
    input.setAttribute("enterkeyhint", "send");
    var sendButton = el("button", "wmp-chat__send");
    sendButton.type = "submit";
    row.appendChild(input);
    row.appendChild(sendButton);
    form.appendChild(label);
    form.appendChild(row);

    panel.appendChild(exitBar);
    panel.appendChild(header);
    panel.appendChild(languagesBox);
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
    languageToggle.addEventListener("click", function () {
      showLanguageList(!isLanguageListOpen());
      if (isLanguageListOpen()) {
        var current = languageList.querySelector("button[aria-current]") || languageList.querySelector("button");
        if (current) {
          current.focus();
        }
      }
    });
    root.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && isOpen()) {
        event.preventDefault();
        if (isLanguageListOpen()) {
          showLanguageList(false); // Escape closes the list of languages first
          languageToggle.focus();
        } else {
          close();
        }
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
      root: root, launcher: launcher, launcherLabel: launcherLabel, launcherHint: launcherHint, panel: panel,
      title: title, status: status, closeButton: closeButton, exitButton: exitButton, log: log, typing: typing,
      typingText: typingText, offline: offline, input: input, inputLabel: label, sendButton: sendButton,
      languageToggle: languageToggle, languageLabel: languageLabel, languageName: languageName,
      languages: languagesBox, languageList: languageList
    };
    root.setAttribute("data-status", "connecting");
    relabel();
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
      languages = readLanguages(config.languages);
      if (!findLanguage(state.language)) {
        state.language = ENGLISH; // a language this config.json no longer has
        state.chosen = false;
      }
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
