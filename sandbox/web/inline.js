// Telegram's own links and inline mode on the sandbox page (loaded before app.js, which calls
// these; they use its state, api() and el()).
"use strict";

// A t.me link to this bot acts here as in Telegram (a deep link sends "/start PAYLOAD").
async function openTelegramLink(url) {
  try {
    const answer = await api(`/sandbox/users/${state.userId}/open-link`, { method: "POST", body: { url } });
    showStatus("");
    if (answer.action === "share") {
      const shared = [answer.share_text, answer.share_url].filter(Boolean).join("\n");
      showToast(`${t("shared")}:\n${shared}`, true);
    } else if (answer.action === "external") {
      window.open(url, "_blank", "noopener");
    }
  } catch (error) {
    showStatus(error.message);
  }
}

function inlineSwitch(button) {
  if (button.switch_inline_query_current_chat !== undefined) return button.switch_inline_query_current_chat;
  return button.switch_inline_query;
}

// ------------------------------------------------------------- inline mode

function inlinePrefix() {
  return state.botUsername ? `@${state.botUsername} ` : null;
}

function startInline(query) {
  const prefix = inlinePrefix();
  if (!prefix) return;
  const input = $("message-input");
  input.value = prefix + (query || "");
  input.focus();
  onComposerInput();
}

function closeInline() {
  clearTimeout(state.inline.timer);
  state.inline.sequence += 1;
  $("inline-results").hidden = true;
  $("inline-results").replaceChildren();
}

// Typing "@bot query" asks the bot (debounced), as Telegram does while the user types.
function onComposerInput() {
  const prefix = inlinePrefix();
  const value = $("message-input").value;
  if (!prefix || !value.toLowerCase().startsWith(prefix.toLowerCase())) {
    closeInline();
    return;
  }
  clearTimeout(state.inline.timer);
  const query = value.slice(prefix.length);
  state.inline.timer = setTimeout(() => askInline(query), 350);
}

async function askInline(query) {
  const sequence = ++state.inline.sequence;
  const panel = $("inline-results");
  panel.hidden = false;
  panel.replaceChildren(el("p", { class: "hint-line", text: t("inlineSearching") }));
  try {
    const body = await api(`/sandbox/users/${state.userId}/inline`, { method: "POST", body: { query } });
    if (sequence !== state.inline.sequence) return;
    renderInlineResults(body.inline_query_id, body.results);
  } catch (error) {
    if (sequence !== state.inline.sequence) return;
    panel.replaceChildren(el("p", { class: "hint-line", text: error.message }));
  }
}

function renderInlineResults(queryId, results) {
  const panel = $("inline-results");
  const close = el("button", { type: "button", class: "inline-close", testid: "inline-close", text: t("inlineClose") });
  close.addEventListener("click", closeInline);
  const items = results.map((result) => {
    const item = el("button", { type: "button", class: "inline-result", testid: "inline-result" }, [
      el("strong", { text: result.title || result.id }),
      result.description ? el("span", { text: result.description }) : null,
    ]);
    item.addEventListener("click", () => chooseInline(queryId, result.id));
    return item;
  });
  panel.replaceChildren(
    ...(items.length ? items : [el("p", { class: "hint-line", testid: "inline-empty", text: t("inlineEmpty") })]),
    close,
  );
}

async function chooseInline(queryId, resultId) {
  try {
    await api(`/sandbox/users/${state.userId}/inline/choose`, {
      method: "POST",
      body: { inline_query_id: queryId, result_id: resultId },
    });
    $("message-input").value = "";
    closeInline();
    showStatus("");
  } catch (error) {
    showStatus(error.message);
  }
}

