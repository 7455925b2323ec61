// Web chat for the Bookbridge sandbox: talks to the control API under /sandbox/.
"use strict";

const state = {
  lang: initialLanguage(),
  users: [],
  userId: null,
  after: 0,
  version: null,
  places: [],
  generation: 0,
  poll: null,
  oneTimeKeyboard: false,
  keyboard: undefined,
  views: new Map(),
  botUsername: "",
  timeZone: undefined,
  inline: { timer: null, sequence: 0 },
};

const ROLE_BADGES = { reader: "📖", organiser: "🎉", librarian: "📚", admin: "🛠️" };

const $ = (id) => document.getElementById(id);

function initialLanguage() {
  const saved = localStorage.getItem("sandbox-lang");
  if (saved === "en" || saved === "zh") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function t(key) {
  return TEXT[state.lang][key] || TEXT.en[key] || key;
}

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-Hans" : "en";
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
  for (const element of document.querySelectorAll("[data-i18n-title]")) {
    element.title = t(element.dataset.i18nTitle);
  }
  for (const element of document.querySelectorAll("[data-i18n-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  }
  $("lang-toggle").textContent = t("switchTo");
  for (const element of document.querySelectorAll("[data-i18n-dynamic]")) {
    element.textContent = t(element.dataset.i18nDynamic);
  }
  renderPlaces();
  renderUserOptions();
  renderChatTitle();
  rerenderMessages();
}

function rerenderMessages() {
  for (const view of state.views.values()) {
    const existing = $("messages").querySelector(`[data-message-id="${view.message_id}"]`);
    if (existing) existing.replaceWith(renderMessage(view));
  }
}

async function api(path, options = {}) {
  const init = { method: options.method || "GET", signal: options.signal, headers: {} };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

function showStatus(message) {
  $("status").textContent = message || "";
}

function el(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === "text") element.textContent = value;
    else if (name === "testid") element.dataset.testid = value;
    else element.setAttribute(name, value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

// ------------------------------------------------------------------ users

function roleName(persona) {
  return TEXT[state.lang][`role_${persona}`] || TEXT.en[`role_${persona}`] || persona;
}

function userOption(user) {
  const name = `${user.first_name}${user.username ? " @" + user.username : ""} (${user.id})`;
  const badge = user.persona ? `${ROLE_BADGES[user.persona] || "👤"} ${roleName(user.persona)} · ` : "";
  return el("option", { value: String(user.id), "data-persona": user.persona, text: badge + name });
}

// The demo's personas first, under their own heading, so each role is easy to pick.
function renderUserOptions() {
  const select = $("user-select");
  const selected = select.value;
  const personas = state.users.filter((user) => user.persona);
  const others = state.users.filter((user) => !user.persona);
  if (!personas.length) {
    select.replaceChildren(...others.map(userOption));
  } else {
    select.replaceChildren(
      el("optgroup", { label: t("personas"), testid: "persona-group" }, personas.map(userOption)),
      others.length
        ? el("optgroup", { label: t("otherPeople"), testid: "other-people-group" }, others.map(userOption))
        : null,
    );
  }
  if (selected) select.value = selected;
}

function renderChatTitle() {
  const user = state.users.find((candidate) => candidate.id === state.userId);
  const title = $("chat-title");
  if (!user) {
    title.replaceChildren();
    return;
  }
  title.replaceChildren(
    user.persona
      ? el("span", { class: `role-badge role-${user.persona}`, testid: "role-badge", text: roleName(user.persona) })
      : null,
    document.createTextNode(`${user.first_name} · ${user.language_code || "–"}`),
  );
}

async function loadUsers(selectId) {
  const body = await api("/sandbox/users");
  state.users = body.users;
  renderUserOptions();
  const select = $("user-select");
  const wanted = selectId ?? state.userId ?? (state.users[0] && state.users[0].id);
  if (wanted !== undefined && wanted !== null) {
    select.value = String(wanted);
    selectUser(Number(wanted));
  } else {
    $("new-user-form").hidden = false;
  }
}

async function createUser(event) {
  event.preventDefault();
  try {
    const user = await api("/sandbox/users", {
      method: "POST",
      body: {
        id: Number($("new-user-id").value),
        first_name: $("new-user-name").value.trim(),
        username: $("new-user-username").value.trim() || null,
        language_code: $("new-user-language").value,
      },
    });
    $("new-user-form").hidden = true;
    $("new-user-form").reset();
    showStatus("");
    await loadUsers(user.id);
  } catch (error) {
    showStatus(error.message);
  }
}

function selectUser(userId) {
  if (state.poll) state.poll.abort();
  state.generation += 1;
  state.userId = userId;
  state.after = 0;
  state.version = null;
  state.keyboard = undefined;
  state.views = new Map();
  renderChatTitle();
  closeInline();
  $("messages").replaceChildren(
    el("p", { id: "empty-hint", class: "hint", testid: "empty-hint", "data-i18n-dynamic": "emptyChat", text: t("emptyChat") }),
  );
  renderReplyKeyboard(null);
  pollMessages(state.generation);
}

// --------------------------------------------------------------- messages

async function pollMessages(generation) {
  let failures = 0;
  while (generation === state.generation) {
    const controller = new AbortController();
    state.poll = controller;
    const params = new URLSearchParams({ after: String(state.after) });
    if (state.version !== null) {
      params.set("version", String(state.version));
      params.set("wait", "25");
    }
    try {
      const body = await api(`/sandbox/users/${state.userId}/messages?${params}`, {
        signal: controller.signal,
      });
      if (generation !== state.generation) return;
      applyChanges(body);
      failures = 0;
      if ($("status").textContent === t("connectionLost")) showStatus("");
    } catch (error) {
      if (error.name === "AbortError" || generation !== state.generation) return;
      failures += 1;
      showStatus(t("connectionLost"));
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 300 * failures)));
    }
  }
}

function applyChanges(body) {
  const container = $("messages");
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  for (const id of body.deleted || []) {
    const existing = container.querySelector(`[data-message-id="${id}"]`);
    if (existing) existing.remove();
    state.views.delete(id);
  }
  for (const view of body.messages) {
    state.views.set(view.message_id, view);
    const element = renderMessage(view);
    const existing = container.querySelector(`[data-message-id="${view.message_id}"]`);
    if (existing) existing.replaceWith(element);
    else container.append(element);
    state.after = Math.max(state.after, view.message_id);
  }
  if (body.messages.length) {
    const hint = $("empty-hint");
    if (hint) hint.remove();
  }
  state.version = body.version;
  const keyboard = JSON.stringify(body.reply_keyboard);
  if (keyboard !== state.keyboard) {
    state.keyboard = keyboard;
    renderReplyKeyboard(body.reply_keyboard);
  }
  if (nearBottom || body.messages.some((view) => view.from === "user")) {
    container.scrollTop = container.scrollHeight;
  }
}

// Times as the bot's readers see them: in the alliance's zone when the server names one.
function formatTime(seconds, options = { hour: "2-digit", minute: "2-digit" }) {
  const date = new Date(seconds * 1000);
  return date.toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", {
    ...options,
    timeZone: state.timeZone,
  });
}

function fullTime(seconds) {
  const when = formatTime(seconds, { dateStyle: "medium", timeStyle: "short" });
  return state.timeZone ? `${when} (${state.timeZone})` : when;
}

function nearestPlace(latitude, longitude) {
  let best = null;
  for (const place of state.places) {
    const distance = Math.hypot(place.latitude - latitude, place.longitude - longitude);
    if (distance < 0.001 && (!best || distance < best.distance)) best = { place, distance };
  }
  return best && best.place;
}

function placeName(place) {
  return state.lang === "zh" ? place.name_zh : place.name_en;
}

function coordinates(location) {
  return `${location.latitude.toFixed(5)}, ${location.longitude.toFixed(5)}`;
}

function renderMessage(view) {
  const bubble = el("div", {
    class: `message ${view.from}`,
    testid: "message",
    "data-message-id": String(view.message_id),
    "data-from": view.from,
  });
  if (view.photo) {
    bubble.append(el("img", { class: "message-photo", testid: "message-photo", src: view.photo.url, alt: "" }));
  }
  if (view.document) {
    const name = view.document.file_name || "file";
    bubble.append(
      el("a", {
        class: "message-document",
        testid: "message-document",
        href: view.document.url,
        download: name,
        text: `📄 ${name}`,
      }),
    );
  }
  if (view.venue) {
    bubble.append(
      el("div", { class: "message-venue", testid: "message-venue" }, [
        el("strong", { text: `📍 ${view.venue.title}` }),
        el("div", { text: view.venue.address }),
        el("div", { class: "coords", text: coordinates(view.venue.location) }),
      ]),
    );
  } else if (view.location) {
    const place = nearestPlace(view.location.latitude, view.location.longitude);
    bubble.append(
      el("div", { class: "message-location", testid: "message-location" }, [
        el("strong", { text: `📍 ${place ? placeName(place) : t("location")}` }),
        el("div", { class: "coords", text: coordinates(view.location) }),
      ]),
    );
  }
  if (view.via_bot) {
    bubble.prepend(el("div", { class: "via", testid: "message-via", text: `${t("via")} @${view.via_bot}` }));
  }
  if (view.html !== null && view.html !== undefined) {
    bubble.append(renderText(view));
  }
  const meta = el("div", { class: "meta" });
  if (view.edited) {
    meta.append(el("span", { class: "edited", testid: "message-edited", "data-i18n-dynamic": "edited", text: t("edited") }));
  }
  meta.append(el("span", { testid: "message-time", title: fullTime(view.date), text: formatTime(view.date) }));
  bubble.append(meta);
  const markup = view.reply_markup;
  if (markup && markup.inline_keyboard) {
    bubble.append(renderInlineKeyboard(view, markup.inline_keyboard));
  }
  return bubble;
}

function renderText(view) {
  const text = el("div", { class: "message-text", testid: "message-text" });
  // view.html is produced by the server from Telegram entities with every text run escaped.
  text.innerHTML = view.html;
  for (const spoiler of text.querySelectorAll(".tg-spoiler")) {
    spoiler.addEventListener("click", () => spoiler.classList.add("revealed"));
  }
  for (const command of text.querySelectorAll(".tg-bot_command[data-command]")) {
    const send = () => sendText(command.dataset.command);
    command.addEventListener("click", send);
    command.addEventListener("keydown", (event) => {
      if (event.key === "Enter") send();
    });
  }
  for (const anchor of text.querySelectorAll("a[href]")) {
    const url = anchor.getAttribute("href");
    if (view.links && view.links[url]) {
      anchor.dataset.telegramLink = view.links[url];
      anchor.addEventListener("click", (event) => {
        event.preventDefault();
        openTelegramLink(url);
      });
    }
  }
  return text;
}

function renderInlineKeyboard(view, rows) {
  const messageId = view.message_id;
  const keyboard = el("div", { class: "inline-keyboard", testid: "inline-keyboard" });
  for (const row of rows) {
    const line = el("div", { class: "inline-row" });
    for (const button of row) {
      if (button.url) {
        const link = el("a", {
          class: "inline-url",
          testid: "inline-url-button",
          href: button.url,
          target: "_blank",
          rel: "noopener noreferrer",
          "data-telegram-link": view.links && view.links[button.url],
          text: button.text,
        });
        if (view.links && view.links[button.url]) {
          link.addEventListener("click", (event) => {
            event.preventDefault();
            openTelegramLink(button.url);
          });
        }
        line.append(link);
      } else if (inlineSwitch(button) !== undefined) {
        // In Telegram this types "@bot query" (into a chat the user picks; here, this one).
        const pressable = el("button", { type: "button", testid: "inline-switch-button", text: button.text });
        pressable.addEventListener("click", () => startInline(inlineSwitch(button)));
        line.append(pressable);
      } else {
        const pressable = el("button", {
          type: "button",
          testid: "inline-button",
          "data-callback-data": button.callback_data ?? "",
          text: button.text,
        });
        if (button.callback_data === undefined) pressable.disabled = true;
        pressable.addEventListener("click", () => pressInline(messageId, button));
        line.append(pressable);
      }
    }
    keyboard.append(line);
  }
  return keyboard;
}

async function pressInline(messageId, button) {
  try {
    const pressed = await api(`/sandbox/users/${state.userId}/press`, {
      method: "POST",
      body: { message_id: messageId, callback_data: button.callback_data },
    });
    showStatus("");
    const body = await api(`/sandbox/callback-answers/${pressed.callback_query_id}?wait=10`);
    if (body.answer && body.answer.text) showToast(body.answer.text, body.answer.show_alert);
    if (body.answer && body.answer.url) window.open(body.answer.url, "_blank", "noopener");
  } catch (error) {
    showStatus(error.message);
  }
}

function showToast(text, alert) {
  const toast = $("toast");
  toast.textContent = text;
  toast.classList.toggle("alert", Boolean(alert));
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => (toast.hidden = true), alert ? 8000 : 2500);
}

// ----------------------------------------------------------- reply keyboard

function renderReplyKeyboard(markup) {
  const container = $("reply-keyboard");
  if (!markup || !markup.keyboard) {
    container.hidden = true;
    container.replaceChildren();
    return;
  }
  state.oneTimeKeyboard = Boolean(markup.one_time_keyboard);
  container.replaceChildren(
    ...markup.keyboard.map((row) =>
      el(
        "div",
        { class: "reply-row" },
        row.map((button) => {
          const element = el("button", {
            type: "button",
            testid: "reply-button",
            "data-request-location": button.request_location ? "true" : null,
            text: button.text,
          });
          element.addEventListener("click", () => pressReply(button));
          return element;
        }),
      ),
    ),
  );
  container.hidden = false;
}

function pressReply(button) {
  if (button.request_location) {
    openLocationPicker();
    return;
  }
  sendText(button.text);
  if (state.oneTimeKeyboard) $("reply-keyboard").hidden = true;
}

// ----------------------------------------------------------------- sending

async function send(body) {
  if (state.userId === null) return;
  try {
    await api(`/sandbox/users/${state.userId}/send`, { method: "POST", body });
    showStatus("");
  } catch (error) {
    showStatus(error.message);
  }
}

function sendText(text) {
  if (!text.trim()) return;
  return send({ text });
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function sendFile(input, kind) {
  const file = input.files && input.files[0];
  input.value = "";
  if (!file) return;
  const content = await readBase64(file);
  if (kind === "photo") await send({ photo: { content_base64: content } });
  else await send({ document: { filename: file.name, content_base64: content, mime_type: file.type || null } });
}

// -------------------------------------------------------------------- start

function start() {
  applyLanguage();
  $("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("sandbox-lang", state.lang);
    applyLanguage();
  });
  $("new-user-toggle").addEventListener("click", () => {
    $("new-user-form").hidden = !$("new-user-form").hidden;
    if (!$("new-user-form").hidden) $("new-user-id").focus();
  });
  $("new-user-cancel").addEventListener("click", () => ($("new-user-form").hidden = true));
  $("new-user-form").addEventListener("submit", createUser);
  $("user-select").addEventListener("change", (event) => selectUser(Number(event.target.value)));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value;
    input.value = "";
    closeInline();
    sendText(text);
  });
  $("message-input").addEventListener("input", onComposerInput);
  $("inline-mode-button").addEventListener("click", () => startInline(""));
  $("document-input").addEventListener("change", (event) => sendFile(event.target, "document"));
  $("photo-input").addEventListener("change", (event) => sendFile(event.target, "photo"));
  $("location-button").addEventListener("click", openLocationPicker);
  $("cancel-location").addEventListener("click", closeLocationPicker);
  $("send-location").addEventListener("click", sendTypedLocation);
  api("/sandbox/settings")
    .then((body) => {
      state.botUsername = body.bot_username || "";
      state.timeZone = body.time_zone || undefined;
      $("inline-mode-button").hidden = !state.botUsername;
      rerenderMessages();
    })
    .catch((error) => showStatus(error.message));
  api("/sandbox/places")
    .then((body) => {
      state.places = body.places;
      renderPlaces();
      rerenderMessages();
    })
    .catch((error) => showStatus(error.message));
  loadUsers().catch((error) => showStatus(error.message));
}

document.addEventListener("DOMContentLoaded", start);
