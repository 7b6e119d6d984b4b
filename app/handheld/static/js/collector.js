// The collector's screens: segment, berths, car in, order (quote, settle, escape), receipt, shift close.
import { get, newRef, nowIso, Offline, Refused } from "./api.js";
import { button, h, mount } from "./dom.js";
import { clock, dateTime, minutesBetween, yuan } from "./format.js";
import { errorText, t } from "./i18n.js";
import { items, submit } from "./outbox.js";
import { photoPicker, sendPhoto } from "./photo.js";
import { plateComplete, plateKeyboard } from "./plate.js";
import { bluetoothPrinting, printReceipt } from "./printer.js";
import { qrPayButton } from "./qrpay.js";
import { readKept } from "./reads.js";
import { ageNote, decisionPanel, routes, show, toast } from "./shell.js";
import { saveSession, state } from "./state.js";
import { kept } from "./store.js";
import { startTracking, stopTracking } from "./track.js";

const settings = () => state.session.settings || {};

export function segmentScreen() {
  mount(h("h1", {}, t("segment.choose")),
    h("div", { class: "list", id: "segments" }, state.session.segments.map((segment) =>
      button([h("strong", {}, segment.name), h("small", {}, segment.address || "")], () => startShift(segment),
             "big", { dataset: { segment: segment.id } }))),
    button(t("signout.device"), () => routes.signOut(), "", { id: "sign-out" }));
}

async function startShift(segment) {
  const result = await submit("shift_start", "/shifts", { client_ref: newRef(), segment_id: segment.id },
                              { label: segment.name });
  if (result.status === "refused") return show(decisionScreen, result.item);
  const shift = result.status === "done" ? result.answer.shift
    : { segment_id: segment.id, segment: segment.name, started_at: nowIso(), pending: true };
  saveSession({ ...state.session, open_shift: { ...shift, segment: segment.name } });
  startTracking();  // on duty
  show(berthsScreen);
}

function segmentName() {
  const shift = state.session.open_shift;
  const seg = state.session.segments.find((s) => s.id === shift.segment_id);
  return shift.segment || (seg && seg.name) || "";
}

// Writes still in the outbox change what the berths show until the server has them.
async function pendingByBerth() {
  const marks = {};
  for (const item of await items()) {
    if (item.kind === "car_in") marks[item.body.berth_id] = { car_in: item };
    else if (item.berth_id) marks[item.berth_id] = { ...(marks[item.berth_id] || {}), leaving: item };
  }
  return marks;
}

export async function berthsScreen() {
  let read;
  try {
    read = await readKept(`berths:${state.session.open_shift.segment_id}`, "/berths");
  } catch (err) {
    if (err instanceof Refused && err.code === "not_signed_in") {
      saveSession({ ...state.session, open_shift: null });
      await stopTracking();
      return show(segmentScreen);
    }
    throw err;
  }
  const marks = await pendingByBerth();
  const asList = state.berthView === "list";
  const berths = read ? read.data.berths : [];
  const cells = berths.map((berth) => berthCell(berth, marks[berth.id] || {}, asList));
  mount(
    h("div", { class: "row between" }, h("h1", {}, segmentName()),
      button(asList ? t("berths.grid") : t("berths.list"), () => { state.berthView = asList ? "grid" : "list";
        show(berthsScreen); }, "small", { id: "berth-view" })),
    read && read.stale ? ageNote(read.at) : null,
    read ? null : h("p", { class: "notice" }, t("berths.none_kept")),
    h("div", { class: asList ? "berth-list" : "berth-grid", id: "berths" }, cells));
}

function berthCell(berth, mark, asList) {
  const order = berth.order;
  let cls = order ? "occupied" : "free";
  let lines = [];
  if (mark.car_in) {
    cls = "pending";
    lines = [mark.car_in.body.plate, t("berths.waiting")];
  } else if (order) {
    if (mark.leaving) cls = "pending";
    lines = [order.plate, `${minutesBetween(order.entered_at)} ${t("unit.min")}`,
      settings().hide_amounts ? "" : yuan(order.fee_so_far_fen)];
    if (mark.leaving) lines.push(t("berths.leaving"));
  } else {
    lines = [t("berths.free")];
  }
  const open = () => {
    if (mark.car_in) return show(orderScreen, berth, null, mark.car_in);
    if (order) return show(orderScreen, berth, order, null);
    return show(carInScreen, berth);
  };
  // the sensor disagrees with the orders (a car and no order, an order and no car): walk there first
  if (berth.mismatch && !mark.car_in) lines.push(t("inspector.mismatch"));
  return button([h("span", { class: "berth-no" }, berth.number), ...lines.filter(Boolean).map((l) => h("span", {}, l))],
                open, `berth ${cls} ${asList ? "wide" : ""} ${berth.mismatch ? "flag" : ""}`,
                { dataset: { berth: berth.number, state: cls, mismatch: berth.mismatch ? "1" : "" } });
}

function classChoices() {
  const types = state.session.car_types || [];
  if (types.length) return types.map((c) => [c.vehicle_class, c.name]);
  return (state.session.vehicle_classes || ["small"]).map((c) => [c, t(`class.${c}`)]);
}

export function carInScreen(berth) {
  const form = { plate: "", vehicle_class: classChoices()[0][0], prepay: 0, method: "cash", photo: null };
  const plateBox = h("div", { class: "plate", id: "plate" });
  const arrearsBox = h("div", { id: "arrears" });
  const setPlate = (plate) => {
    form.plate = plate;
    plateBox.replaceChildren(plate || h("span", { class: "hint" }, t("carin.plate_hint")));
    plateBox.classList.toggle("green", plate.length === 8);
    arrearsBox.replaceChildren();
    if (plateComplete(plate)) lookUpPlate(plate, arrearsBox);
  };
  setPlate("");
  const classSelect = h("select", { id: "vehicle-class", onchange: (e) => { form.vehicle_class = e.target.value; } },
    classChoices().map(([value, name]) => h("option", { value }, name)));
  const presets = settings().prepay_allowed ? (settings().prepay_presets_fen || []) : [];
  const toggles = (name, values, labelOf) => h("div", { class: "choices", id: name },
    values.map((value) => button(labelOf(value), (e) => {
      form[name] = value;
      e.target.parentNode.querySelectorAll("button").forEach((b) => b.classList.toggle("on", b === e.target));
    }, form[name] === value ? "on" : "", { dataset: { value } })));
  const submitButton = button(t("carin.submit"), () => carIn(berth, form, submitButton), "primary big",
                              { id: "car-in" });
  mount(h("h1", {}, `${t("carin.title")} · ${berth.number}`), plateBox, plateKeyboard(() => form.plate, setPlate),
    h("label", {}, t("carin.class"), classSelect),
    presets.length ? h("div", {}, h("h2", {}, t("carin.prepay")), toggles("prepay", [0, ...presets],
      (fen) => (fen ? yuan(fen) : t("carin.no_prepay"))),
    toggles("method", ["cash", "card"], (m) => t(`method.${m}`))) : null,
    photoPicker((blob) => { form.photo = blob; }, "entry-photo",
                t(settings().photo_required_entry ? "photo.take_entry_required" : "photo.take_entry")),
    arrearsBox, h("p", { class: "error", id: "form-error" }),
    h("div", { class: "row" }, button(t("back"), () => show(berthsScreen), "", { id: "back" }), submitButton));
}

async function lookUpPlate(plate, box) {
  let found;
  try {
    found = await get(`/plates/${encodeURIComponent(plate)}`);
  } catch (err) {
    box.replaceChildren(h("p", { class: "notice" }, t(err instanceof Offline ? "plate.unchecked" : "plate.failed")));
    return;
  }
  const parts = [];
  if (found.blacklisted) parts.push(h("p", { class: "error" }, t("plate.blacklisted"), " ", found.blacklist_reason || ""));
  if (found.open_orders.length) {
    parts.push(h("p", { class: "notice" }, t("plate.parked_elsewhere"), " ",
      found.open_orders.map((o) => `${o.park} ${o.berth || ""}`).join(", ")));
  }
  if (found.arrears.length) parts.push(arrearsPanel(found));
  box.replaceChildren(...parts);
}

function arrearsPanel(found) {
  const panel = h("div", { class: "panel warn", id: "arrears-panel" },
    h("h2", {}, t("arrears.title", { total: yuan(found.arrears_total_fen) })),
    h("ul", {}, found.arrears.map((a) => h("li", {}, `${dateTime(a.entered_at)} ${a.park} ${a.berth || ""} `,
      h("strong", {}, yuan(a.amount_fen))))));
  const recover = async (method) => {
    const result = await submit("recover", "/arrears/recover",
      { client_ref: newRef(), arrear_ids: found.arrears.map((a) => a.id), method, amount_fen: found.arrears_total_fen },
      { label: `${found.plate} ${yuan(found.arrears_total_fen)}` });
    const note = result.status === "done" ? t("arrears.recovered", { total: yuan(result.answer.total_fen) })
      : result.status === "waiting" ? t("saved_offline") : errorText(result.item.error);
    panel.replaceChildren(h("p", { class: result.status === "refused" ? "error" : "ok", id: "arrears-result" }, note));
  };
  panel.append(h("div", { class: "row" },
    button(t("arrears.recover_cash"), () => recover("cash"), "primary", { id: "recover-cash" }),
    button(t("arrears.recover_card"), () => recover("card"), "", { id: "recover-card" })));
  return panel;
}

async function carIn(berth, form, submitButton) {
  const problem = !plateComplete(form.plate) ? "carin.plate_incomplete"
    : settings().photo_required_entry && !form.photo ? "photo.required" : null;
  if (problem) {
    document.getElementById("form-error").textContent = t(problem);
    return;
  }
  submitButton.disabled = true;
  const body = { client_ref: newRef(), berth_id: berth.id, plate: form.plate, vehicle_class: form.vehicle_class,
                 entered_at: nowIso() };
  if (form.prepay) body.prepay = { amount_fen: form.prepay, method: form.method };
  const result = await submit("car_in", "/orders", body, { label: `${berth.number} ${form.plate}` });
  if (form.photo && result.status !== "refused") {  // sent after its car in, to the order that car in made
    await sendPhoto({ path: "/orders/{parent}", extra: { parent_ref: body.client_ref } }, "entry", form.photo,
                    `${berth.number} ${form.plate}`);
  }
  if (result.status === "refused") return show(decisionScreen, result.item);
  toast(result.status === "done" ? t("carin.done", { plate: form.plate }) : t("saved_offline"));
  return show(berthsScreen);
}

// An occupied berth: the order's quote for now, then settle (cash, card, free) or escape.
export async function orderScreen(berth, order, pendingCarIn) {
  const leftAt = nowIso();
  let quote = null;
  let estimated = false;
  if (order) {
    try {
      quote = (await get(`/orders/${order.id}/quote?left_at=${encodeURIComponent(leftAt)}`)).quote;
    } catch (err) {
      if (err instanceof Refused) return show(problemScreen, err.error);
      estimated = true;
      quote = { fee_fen: order.fee_so_far_fen, prepaid_fen: order.prepaid_fen,
                due_fen: Math.max(0, order.fee_so_far_fen - order.prepaid_fen),
                refund_fen: Math.max(0, order.prepaid_fen - order.fee_so_far_fen) };
    }
  } else {
    estimated = true;  // the car in itself still waits to be sent
    const prepaid = (pendingCarIn.body.prepay || {}).amount_fen || 0;
    quote = { fee_fen: 0, prepaid_fen: prepaid, due_fen: 0, refund_fen: prepaid };
  }
  const plate = order ? order.plate : pendingCarIn.body.plate;
  const target = order ? { path: `/orders/${order.id}`, extra: {} }
    : { path: "/orders/{parent}", extra: { parent_ref: pendingCarIn.body.client_ref } };
  const hidden = settings().hide_amounts;
  const reasons = settings().free_reasons || [];
  // the exit photo goes out before the exit it shows (required when the park says so); one exit per screen,
  // however often the person taps
  let exitPhoto = null;
  let exiting = false;
  const exitError = h("p", { class: "error", id: "exit-error" });
  const photographed = async () => {
    if (exiting) return false;
    if (!exitPhoto && settings().photo_required_exit) {
      exitError.textContent = t("photo.required_exit");
      return false;
    }
    exiting = true;
    if (exitPhoto) await sendPhoto(target, "exit", exitPhoto, `${berth.number} ${plate}`);
    return true;
  };
  const settle = async (method, reason) => {
    if (!(await photographed())) return null;
    const body = { client_ref: newRef(), left_at: leftAt, method, amount_fen: method === "free" ? 0 : quote.due_fen };
    if (reason) body.free_reason = reason;
    const result = await submit("settle", `${target.path}/settle`, body,
      { ...target.extra, berth_id: berth.id, label: `${berth.number} ${plate} ${yuan(body.amount_fen)}` });
    if (result.status === "done") return show(receiptScreen, result.answer.receipt);
    if (result.status === "refused") return show(decisionScreen, result.item);
    toast(t("saved_offline"));
    return show(berthsScreen);
  };
  const escape = async () => {
    if (!(await photographed())) return null;
    const result = await submit("escape", `${target.path}/escape`, { client_ref: newRef(), left_at: leftAt },
      { ...target.extra, berth_id: berth.id, label: `${berth.number} ${plate}` });
    if (result.status === "refused") return show(decisionScreen, result.item);
    toast(result.status === "done" ? t("order.escaped", { total: yuan(result.answer.arrear.amount_fen) })
      : t("saved_offline"));
    return show(berthsScreen);
  };
  const photoNote = h("p", { class: "ok", id: "photo-note" });
  const picker = photoPicker(async (blob) => {
    const result = await sendPhoto(target, "evidence", blob, `${berth.number} ${plate}`);
    photoNote.textContent = result.status === "refused" ? t("refused.title") : t("photo.kept");
  }, "evidence-photo", t("photo.take_evidence"));
  const exitPicker = photoPicker((blob) => { exitPhoto = blob; exitError.textContent = ""; }, "exit-photo",
                                 t(settings().photo_required_exit ? "photo.take_exit_required" : "photo.take_exit"));
  const freeBox = h("div", { class: "choices hidden", id: "free-reasons" },
    reasons.map((r) => button(r, () => settle("free", r), "", { dataset: { reason: r } })));
  mount(
    h("h1", {}, `${berth.number} · `, h("span", { class: "plate inline" }, plate)),
    h("dl", { class: "facts", id: "quote" },
      h("dt", {}, t("order.entered")), h("dd", {}, order ? dateTime(order.entered_at) : t("berths.waiting")),
      h("dt", {}, t("order.parked")), h("dd", {}, order ? `${minutesBetween(order.entered_at, new Date(leftAt))} ${t("unit.min")}` : "—"),
      hidden ? null : [h("dt", {}, t("order.fee")), h("dd", {}, yuan(quote.fee_fen)),
        h("dt", {}, t("order.prepaid")), h("dd", {}, yuan(quote.prepaid_fen)),
        h("dt", {}, t("order.refund")), h("dd", {}, yuan(quote.refund_fen))]),
    h("p", { class: "due" }, t("order.due"), " ", h("strong", { id: "due" }, yuan(quote.due_fen))),
    estimated ? h("p", { class: "notice" }, t("order.estimated")) : null,
    h("div", { class: "actions" }, exitPicker, exitError,
      button(t("order.cash"), () => settle("cash"), "primary big", { id: "settle-cash" }),
      button(t("order.card"), () => settle("card"), "big", { id: "settle-card" }),
      order ? qrPayButton(order, plate, () => show(orderScreen, berth, order), (m) => { toast(m); show(berthsScreen); }) : null,
      reasons.length ? button(t("order.free"), () => freeBox.classList.toggle("hidden"), "", { id: "settle-free" }) : null,
      freeBox,
      button(t("order.escape"), () => { if (window.confirm(t("order.escape_confirm"))) escape(); }, "danger",
             { id: "escape" }),
      picker, photoNote,
      button(t("back"), () => show(berthsScreen), "", { id: "back" })));
}

// The receipt's lines, for the screen (amounts as ¥) and for the printer (¥ is not in its code page).
function receiptRows(receipt, money) {
  return [[t("receipt.no"), receipt.receipt_no], [t("receipt.segment"), receipt.segment],
    [t("receipt.berth"), receipt.berth], [t("receipt.plate"), receipt.plate],
    [t("order.entered"), dateTime(receipt.entered_at)], [t("receipt.left"), dateTime(receipt.left_at)],
    [t("order.parked"), `${receipt.duration_minutes} ${t("unit.min")}`],
    [t("order.fee"), money(receipt.fee_fen)], [t("order.prepaid"), money(receipt.prepaid_fen)],
    [t("receipt.collected"), money(receipt.collected_fen)], [t("order.refund"), money(receipt.refund_fen)],
    [t("receipt.method"), t(`method.${receipt.method}`)],
    receipt.free_reason ? [t("receipt.free_reason"), receipt.free_reason] : null,
    [t("receipt.collector"), receipt.collector]].filter(Boolean);
}

export function receiptScreen(receipt) {
  const note = h("p", { class: "error no-print", id: "print-error" });
  const printBluetooth = async () => {
    note.textContent = "";
    const failed = await printReceipt({ header: receipt.header, title: receipt.park, footer: receipt.footer,
      rows: receiptRows(receipt, (fen) => t("print.amount", { amount: (fen / 100).toFixed(2) })) });
    if (failed && failed !== "cancelled") note.textContent = t("print.failed", { reason: failed });
    else if (!failed) toast(t("print.sent"));
  };
  mount(h("article", { class: "receipt", id: "receipt" },
    receipt.header ? h("p", { class: "center" }, receipt.header) : null,
    h("h2", { class: "center" }, receipt.park),
    h("dl", {}, receiptRows(receipt, yuan).map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])),
    receipt.footer ? h("p", { class: "center" }, receipt.footer) : null),
  h("div", { class: "row no-print" }, button(t("receipt.print"), () => window.print(), "primary big", { id: "print" }),
    bluetoothPrinting() ? button(t("print.bluetooth"), printBluetooth, "big", { id: "print-bt" }) : null,
    button(t("done"), () => show(berthsScreen), "big", { id: "receipt-done" })), note);
}

// A write the server refused: what it said, and the person's choices.
export function decisionScreen(item) {
  mount(h("h1", {}, t("refused.title")), decisionPanel(item, () => show(berthsScreen)),
    button(t("back"), () => show(berthsScreen), "", { id: "back" }));
}

export function problemScreen(error) {
  mount(h("p", { class: "error" }, errorText(error)), button(t("back"), () => show(berthsScreen), "", { id: "back" }));
}

export function shiftScreen() {
  const shift = state.session.open_shift;
  const password = h("input", { type: "password", id: "signout-password", autocomplete: "off" });
  const close = async () => {
    const body = { client_ref: newRef() };
    if (settings().signout_password_required) body.password = password.value;
    const result = await submit("shift_close", "/shifts/current/close", body, { label: segmentName() });
    if (result.status === "refused") return show(decisionScreen, result.item);
    saveSession({ ...state.session, open_shift: null });
    await stopTracking();  // off duty: the last positions go into the outbox
    if (result.status === "done") {
      await kept.set("last_summary", result.answer);
      return show(summaryScreen, result.answer);
    }
    toast(t("saved_offline"));
    return show(summaryScreen, null);
  };
  mount(h("h1", {}, t("shift.title")),
    shift ? h("dl", { class: "facts" }, h("dt", {}, t("shift.segment")), h("dd", {}, segmentName()),
      h("dt", {}, t("shift.started")), h("dd", {}, clock(shift.started_at))) : h("p", {}, t("shift.none")),
    shift && settings().signout_password_required ? h("label", {}, t("shift.password"), password) : null,
    shift ? button(t("shift.close"), close, "danger big", { id: "close-shift" }) : null);
}

const SUMMARY_ROWS = ["cars_in", "cars_out", "fee_cash_fen", "fee_electronic_fen", "fee_card_fen", "prepay_cash_fen",
  "prepay_electronic_fen", "refund_cash_fen", "refund_electronic_fen", "recovery_cash_fen",
  "recovery_electronic_fen", "recovery_card_fen", "unpaid_count", "unpaid_fen", "cash_to_hand_over_fen"];

export function summaryScreen(answer) {
  const summary = answer && answer.summary;
  mount(h("h1", {}, t("summary.title")),
    summary ? h("dl", { class: "facts", id: "summary" }, SUMMARY_ROWS.map((key) => [
      h("dt", {}, t(`summary.${key}`)),
      h("dd", { dataset: { key, value: summary[key] } },
        key.endsWith("_fen") ? yuan(summary[key]) : String(summary[key]))]))
      : h("p", { class: "notice" }, t("summary.waiting")),
    button(t("signout.device"), () => routes.signOut(), "big", { id: "sign-out" }),
    state.session.segments.length ? button(t("segment.again"), () => show(segmentScreen), "", { id: "again" }) : null);
}
