// What every screen shares: the top bar (network, waiting writes, navigation, language), screen changes,
// notes, the outbox screen with the person's decisions, and the inbox.
import { get, Offline, Refused } from "./api.js";
import { button, h, mount } from "./dom.js";
import { dateTime, yuan } from "./format.js";
import { errorText, lang, setLang, t } from "./i18n.js";
import { discard, items, onChange, resend } from "./outbox.js";
import { state } from "./state.js";
import { kept, prefs } from "./store.js";

// `extra` is the role's fourth tab: {label, screen, id} (the collector's shift, the inspector's track).
export const routes = { home: null, signIn: null, extra: null, signOut: null };

export async function show(render, ...args) {
  state.screen = [render, args];
  try {
    await render(...args);
  } catch (err) {
    if (err instanceof Refused && err.status === 401) return routes.signIn(t("signin.expired"));
    mount(h("p", { class: "error", id: "screen-error" },
      err instanceof Refused ? errorText(err.error) : err instanceof Offline ? t("offline.nothing_kept") : String(err)),
    button(t("back"), () => show(routes.home), "", { id: "back" }));
  }
  drawBar();
}

export const redraw = () => state.screen && show(state.screen[0], ...state.screen[1]);

export function toast(message) {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", class: "toast", role: "status" });
    document.body.append(box);
  }
  box.textContent = message;
  box.classList.add("on");
  clearTimeout(box.timer);
  box.timer = setTimeout(() => box.classList.remove("on"), 3000);
}

export function ageNote(at) {
  const minutes = Math.floor((Date.now() - at) / 60000);
  return h("p", { class: "notice stale", id: "stale" }, t("offline.as_of", { minutes, time: dateTime(new Date(at)) }));
}

export async function countWaiting() {
  const all = await items();
  state.waiting = all.filter((i) => i.state === "waiting").length;
  state.refused = all.filter((i) => i.state === "refused").length;
}

export function drawBar() {
  const bar = document.getElementById("bar");
  const session = state.session;
  const signedIn = Boolean(session && session.user);
  bar.replaceChildren(
    h("div", { class: "bar-top" },
      h("span", { class: "title" }, signedIn ? session.park.name : "ParkingOS"),
      h("span", { class: `net ${state.online ? "up" : "down"}`, id: "net" }, state.online ? t("net.online") : t("net.offline")),
      button(lang() === "zh" ? "EN" : "中文", () => { setLang(lang() === "zh" ? "en" : "zh"); redraw(); }, "small",
             { id: "lang", "aria-label": "Language / 语言" })),
    signedIn ? h("nav", { class: "bar-nav" },
      button(t("nav.home"), () => show(routes.home), "", { id: "nav-home" }),
      button([t("nav.waiting"), " ", h("b", { id: "queue-count" }, String(state.waiting + state.refused))],
             () => show(queueScreen), state.refused ? "alert" : state.waiting ? "warn" : "", { id: "nav-queue" }),
      button([t("nav.inbox"), state.unread ? h("b", { class: "badge", id: "unread" }, String(state.unread)) : null],
             () => show(inboxScreen), "", { id: "nav-inbox" }),
      routes.extra ? button(t(routes.extra.label), () => show(routes.extra.screen), "", { id: routes.extra.id })
        : null) : null);
}

onChange(async () => {
  await countWaiting();
  drawBar();
  if (state.screen && state.screen[0] === queueScreen) redraw();
});

export function decisionPanel(item, after) {
  const error = item.error || {};
  const choices = [];
  if (error.code === "fee_changed" && item.kind === "settle" && error.quote) {
    choices.push(button(t("refused.take_new", { total: yuan(error.quote.due_fen) }),
      () => resend(item, { amount_fen: error.quote.due_fen }).then(after), "primary", { id: "take-new" }));
  }
  if (error.code === "arrears_changed" && item.kind === "recover" && error.due_fen !== undefined) {
    choices.push(button(t("refused.take_new", { total: yuan(error.due_fen) }),
      () => resend(item, { amount_fen: error.due_fen, arrear_ids: error.arrears.map((a) => a.id) }).then(after),
      "primary", { id: "take-new" }));
  }
  choices.push(button(t("refused.retry"), () => resend(item).then(after), "", { dataset: { act: "retry" } }));
  choices.push(button(t("refused.discard"), () => { if (window.confirm(t("refused.discard_confirm"))) discard(item).then(after); },
    "danger", { dataset: { act: "discard" } }));
  return h("div", { class: "panel warn refusal", dataset: { code: error.code || "", ref: item.body.client_ref } },
    h("p", {}, h("strong", {}, t(`kind.${item.kind}`)), " ", item.label || ""),
    h("p", { class: "error" }, errorText(error)), h("div", { class: "row" }, choices));
}

export async function queueScreen() {
  const all = await items();
  mount(h("h1", {}, t("queue.title")),
    all.length ? null : h("p", { id: "queue-empty" }, t("queue.empty")),
    h("ul", { class: "queue", id: "queue" }, all.map((item) => h("li", { dataset: { state: item.state, kind: item.kind } },
      item.state === "refused" ? decisionPanel(item, () => show(queueScreen))
        : [h("strong", {}, t(`kind.${item.kind}`)), " ", item.label || "", " ",
          h("small", {}, dateTime(new Date(item.created_at))), " ", h("span", { class: "tag" }, t("queue.waiting"))]))));
}

// Messages since the last one kept, 100 a page; the kept list is what the inbox shows offline.
async function fetchMessages() {
  const keptRow = await kept.get("messages");
  let messages = keptRow ? keptRow.value : [];
  try {
    let after = messages.length ? messages[messages.length - 1].id : 0;
    for (;;) {
      const page = await get(`/messages?after=${after}`);
      messages = [...new Map(messages.concat(page.messages).map((m) => [m.id, m])).values()];  // a poll may race
      if (page.messages.length < 100) break;
      after = page.last_id;
    }
    await kept.set("messages", messages.slice(-200));
    return { messages, at: Date.now(), stale: false };
  } catch (err) {
    if (!(err instanceof Offline)) throw err;
    return { messages, at: keptRow ? keptRow.at : null, stale: true };
  }
}

// The inbox button shows how many messages came since the person last looked.
export async function pollInbox() {
  if (!state.session || !state.online) return;
  try {
    const { messages } = await fetchMessages();
    const seen = prefs.get("inbox_seen") || 0;
    state.unread = messages.filter((m) => m.id > seen).length;
    drawBar();
  } catch (err) {
    // a refused read (signed out meanwhile) shows on the next screen the person opens
  }
}

export async function inboxScreen() {
  const { messages, at, stale } = await fetchMessages();
  if (messages.length) prefs.set("inbox_seen", messages[messages.length - 1].id);
  state.unread = 0;
  mount(h("h1", {}, t("inbox.title")), stale && at ? ageNote(at) : null,
    messages.length ? null : h("p", {}, t("inbox.empty")),
    h("ul", { class: "inbox", id: "inbox" }, [...messages].reverse().map((m) => h("li", { class: `msg ${m.kind}` },
      h("strong", {}, m.title), h("small", {}, dateTime(m.created_at)), m.body ? h("p", {}, m.body) : null))));
}
