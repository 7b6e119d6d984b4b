// Offline first: every write is kept in IndexedDB with the client_ref made when the person tapped, and sent
// in the order it was made whenever the network is there. A refused write stays, marked, until the person
// decides; nothing is dropped on its own.
import { call, Offline, Refused } from "./api.js";
import { kept, outbox } from "./store.js";

const listeners = new Set();
const answers = new Map();  // seq -> answer of a write sent during this run of the app
let draining = null;
let lastStop = null;  // why the last drain stopped: "offline", "signed_out" or null

export const onChange = (fn) => listeners.add(fn);
const changed = (event) => listeners.forEach((fn) => fn(event));

export const items = async () => (await outbox.all()).sort((a, b) => a.seq - b.seq);

// A write of `kind` to `path`; `body.client_ref` was made at the tap. `extra.parent_ref` names an earlier write
// (a car in, a report) whose answer gives the id this one acts on: "{parent}" in the path.
export async function submit(kind, path, body, extra = {}) {
  const item = { kind, path, body, state: "waiting", created_at: Date.now(), ...extra };
  item.seq = await outbox.add(item);
  changed({ type: "added", item });
  for (let round = 0; round < 3; round += 1) {
    await drain();
    if (answers.has(item.seq)) return { status: "done", answer: answers.get(item.seq), item };
    const now = (await outbox.all()).find((i) => i.seq === item.seq);
    if (now && now.state === "refused") return { status: "refused", item: now };
    if (lastStop) return { status: "waiting", item, why: lastStop };
  }
  return { status: "waiting", item };
}

export function drain() {
  if (!draining) draining = drainAll().finally(() => { draining = null; });
  return draining;
}

async function drainAll() {
  lastStop = null;
  for (;;) {
    const next = (await items()).find((i) => i.state === "waiting");
    if (!next) return;
    const stop = await send(next);
    if (stop) {
      lastStop = stop;
      changed({ type: "stopped", why: stop });
      return;
    }
  }
}

// The writes that make something later writes act on, and where their answer says its id.
const MAKES = { car_in: (answer) => answer.order.id, report: (answer) => answer.report.id };

async function idOf(ref) {
  const map = (await kept.get("ids_by_ref")) || { value: {} };
  return map.value[ref];
}

async function rememberId(ref, id) {
  const map = ((await kept.get("ids_by_ref")) || { value: {} }).value;
  map[ref] = id;
  await kept.set("ids_by_ref", map);
}

async function refuse(item, status, error) {
  Object.assign(item, { state: "refused", status, error });
  await outbox.put(item);
  changed({ type: "refused", item });
}

// A photo waits in IndexedDB as a Blob and goes out as the multipart form the API takes.
function photoForm(item) {
  const form = new FormData();
  for (const [name, value] of Object.entries(item.body)) form.append(name, value);  // client_ref, kind of an order's
  form.append("photo", item.photo, item.photo.type === "image/png" ? "photo.png" : "photo.jpg");
  return form;
}

// Sends one write; answers why draining must stop, or null to go on.
async function send(item) {
  let path = item.path;
  if (item.parent_ref) {
    const id = await idOf(item.parent_ref);
    if (!id) {
      await refuse(item, 0, { code: "depends_on_refused", message: "" });
      return null;
    }
    path = path.replace("{parent}", String(id));
  }
  try {
    const answer = await call("POST", path, item.photo ? photoForm(item) : item.body);
    if (MAKES[item.kind]) await rememberId(item.body.client_ref, MAKES[item.kind](answer));
    await outbox.remove(item.seq);
    answers.set(item.seq, answer);
    changed({ type: "done", item, answer });
    return null;
  } catch (err) {
    if (err instanceof Offline) return "offline";
    if (err instanceof Refused && err.status === 401) return "signed_out";
    if (err instanceof Refused) {
      await refuse(item, err.status, err.error);
      return null;
    }
    throw err;
  }
}

// The person's decisions on a refused write.
export async function resend(item, changes = {}) {
  Object.assign(item.body, changes);
  Object.assign(item, { state: "waiting", status: null, error: null });
  await outbox.put(item);
  changed({ type: "resent", item });
  return drain();
}

export async function discard(item) {
  await outbox.remove(item.seq);
  for (const other of await items()) {  // what was to follow this car in (or report) has nothing to act on
    if (other.parent_ref === item.body.client_ref) await outbox.remove(other.seq);
  }
  changed({ type: "discarded", item });
}

// Retries: when the browser says the network is back, and every few seconds while anything waits.
export function start(intervalMs = 4000) {
  window.addEventListener("online", () => drain());
  setInterval(async () => {
    if ((await items()).some((i) => i.state === "waiting")) drain();
  }, intervalMs);
}
