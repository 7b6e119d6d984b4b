// The inspector's screens: tasks resolved with a note and a photo, segments nearby and a segment's berths with
// sensor next to order, violation reports with a photo; the GPS track is in track.js.
import { get, newRef, nowIso, Offline } from "./api.js";
import { button, h, mount } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";
import { submit } from "./outbox.js";
import { photoPicker, sendPhoto } from "./photo.js";
import { plateComplete, plateKeyboard } from "./plate.js";
import { readKept } from "./reads.js";
import { ageNote, routes, show, toast } from "./shell.js";
import { state } from "./state.js";
import { lastPosition } from "./track.js";

export async function inspectorScreen() {
  const read = await readKept("tasks", "/inspector/tasks?state=open");
  const tasks = read ? read.data.tasks : [];
  mount(h("h1", {}, t("inspector.tasks")), read && read.stale ? ageNote(read.at) : null,
    tasks.length ? null : h("p", { id: "no-tasks" }, t("inspector.no_tasks")),
    h("ul", { class: "list", id: "tasks" }, tasks.map((task) => h("li", { class: "panel", dataset: { task: task.id } },
      h("strong", {}, task.label), " ", task.segment || "", " ", task.berth || "", h("small", {}, clock(task.created_at)),
      task.note ? h("p", {}, task.note) : null,
      button(t("inspector.resolve"), () => show(resolveScreen, task), "primary", { dataset: { resolve: task.id } })))),
    button(t("report.new"), () => show(reportScreen), "primary big", { id: "report" }),
    h("h2", {}, t(lastPosition() ? "inspector.nearby" : "inspector.segments")),
    h("div", { class: "list" }, (await segmentsToShow()).map((segment) =>
      button([h("strong", {}, segment.name),
        segment.distance_m !== undefined ? h("small", {}, `${Math.round(segment.distance_m)} m`) : null],
      () => show(segmentBerthsScreen, segment), "big", { dataset: { segment: segment.id } }))),
    button(t("signout.device"), () => routes.signOut(), "", { id: "sign-out" }));
}

// Nearest first when the GPS has a fix (within the API's radius), else every segment of the park.
async function segmentsToShow() {
  const here = lastPosition();
  if (!here) return state.session.segments;
  try {
    const found = await get(`/inspector/segments?lat=${here.lat}&lng=${here.lng}`);
    return found.segments.length ? found.segments : state.session.segments;
  } catch (err) {
    if (err instanceof Offline) return state.session.segments;
    throw err;
  }
}

// A violation or anomaly seen on the street, where the inspector stands.
function reportScreen() {
  const form = { kind: "violation", plate: "", photo: null };
  const plateBox = h("div", { class: "plate", id: "plate" });
  const setPlate = (plate) => {
    form.plate = plate;
    plateBox.replaceChildren(plate || h("span", { class: "hint" }, t("report.plate_hint")));
  };
  setPlate("");
  const segment = h("select", { id: "report-segment" }, h("option", { value: "" }, "—"),
    state.session.segments.map((s) => h("option", { value: s.id }, s.name)));
  const note = h("textarea", { id: "report-note", rows: 3, maxlength: 1000 });
  const error = h("p", { class: "error", id: "form-error" });
  const send = async () => {
    if (form.plate && !plateComplete(form.plate)) {
      error.textContent = t("carin.plate_incomplete");
      return;
    }
    const body = { client_ref: newRef(), kind: form.kind, observed_at: nowIso(), plate: form.plate || undefined,
                   segment_id: segment.value ? Number(segment.value) : undefined, note: note.value.trim() || undefined };
    if (lastPosition()) Object.assign(body, lastPosition());
    const label = `${t(`report.${form.kind}`)} ${form.plate}`;
    const result = await submit("report", "/inspector/reports", body, { label });
    if (form.photo && result.status !== "refused") {  // sent after its report, to the report it made
      await sendPhoto({ path: "/inspector/reports/{parent}", extra: { parent_ref: body.client_ref } }, null,
                      form.photo, label);
    }
    toast(result.status === "done" ? t("report.sent") : result.status === "waiting" ? t("saved_offline")
      : t("refused.title"));
    show(inspectorScreen);
  };
  mount(h("h1", {}, t("report.new")),
    h("div", { class: "choices", id: "report-kind" }, ["violation", "anomaly"].map((kind) => button(t(`report.${kind}`),
      (e) => { form.kind = kind;
        e.target.parentNode.querySelectorAll("button").forEach((b) => b.classList.toggle("on", b === e.target)); },
      kind === form.kind ? "on" : "", { dataset: { value: kind } }))),
    plateBox, plateKeyboard(() => form.plate, setPlate),
    h("label", {}, t("shift.segment"), segment), h("label", {}, t("inspector.note"), note),
    photoPicker((blob) => { form.photo = blob; }, "report-photo"), error,
    h("div", { class: "row" }, button(t("back"), () => show(inspectorScreen), "", { id: "back" }),
      button(t("report.send"), send, "primary big", { id: "report-send" })));
}

function resolveScreen(task) {
  const note = h("textarea", { id: "task-note", rows: 4, maxlength: 1000 });
  let photo = null;
  const resolve = async (outcome) => {
    if (photo) await sendPhoto({ path: `/inspector/tasks/${task.id}`, extra: {} }, null, photo, task.label);
    const result = await submit("resolve", `/inspector/tasks/${task.id}/resolve`,
      { client_ref: newRef(), note: note.value.trim() || undefined, outcome }, { label: task.label });
    toast(result.status === "done" ? t("inspector.resolved") : result.status === "waiting" ? t("saved_offline")
      : t("refused.title"));
    show(inspectorScreen);
  };
  mount(h("h1", {}, task.label), h("label", {}, t("inspector.note"), note),
    photoPicker((blob) => { photo = blob; }, "task-photo"),
    h("div", { class: "row" }, button(t("inspector.done"), () => resolve("done"), "primary big", { id: "task-done" }),
      button(t("inspector.failed"), () => resolve("failed"), "big", { id: "task-failed" })),
    button(t("back"), () => show(inspectorScreen), "", { id: "back" }));
}

async function segmentBerthsScreen(segment) {
  const read = await readKept(`board:${segment.id}`, `/inspector/segments/${segment.id}/berths`);
  const berths = read ? read.data.berths : [];
  mount(h("h1", {}, segment.name), read && read.stale ? ageNote(read.at) : null,
    h("div", { class: "berth-grid", id: "board" }, berths.map((b) => {
      const sensor = b.sensor ? `${t("inspector.sensor")}: ${t(`inspector.sensor_${b.sensor.state}`)}` : "";
      return h("div", { class: `berth ${b.order ? "occupied" : "free"} ${b.mismatch ? "flag" : ""}`,
                        dataset: { berth: b.number, mismatch: b.mismatch ? "1" : "" } },
        h("span", { class: "berth-no" }, b.number), h("span", {}, b.order ? b.order.plate : t("berths.free")),
        sensor ? h("span", {}, sensor) : null, b.mismatch ? h("strong", {}, t("inspector.mismatch")) : null);
    })),
    button(t("back"), () => show(inspectorScreen), "", { id: "back" }));
}
