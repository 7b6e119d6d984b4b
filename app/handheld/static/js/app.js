// The handheld app's start: the service worker, the sign-in on the device, and the first screen by role.
import { call, Offline, Refused } from "./api.js";
import { berthsScreen, segmentScreen, shiftScreen } from "./collector.js";
import { button, h, mount } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { inspectorScreen } from "./inspector.js";
import { drain, items, start as startOutbox } from "./outbox.js";
import { countWaiting, drawBar, pollInbox, queueScreen, routes, show, toast } from "./shell.js";
import { saveSession, state } from "./state.js";
import { forgetReads, prefs } from "./store.js";
import { flushTrack, startTracking, stopTracking, trackScreen } from "./track.js";

function collectorHome() {
  return show(state.session.open_shift ? berthsScreen : segmentScreen);
}

function home() {
  if (!state.session || !prefs.get("token")) return signInScreen();
  if (state.session.user.role === "inspector") {  // on duty while signed in
    routes.home = inspectorScreen;
    routes.extra = { label: "nav.track", screen: trackScreen, id: "nav-track" };
    startTracking();
    return show(inspectorScreen);
  }
  routes.home = () => (state.session.open_shift ? berthsScreen() : segmentScreen());
  routes.extra = { label: "nav.shift", screen: shiftScreen, id: "nav-shift" };
  if (state.session.open_shift) startTracking();  // on duty while signed in to a segment
  return collectorHome();
}

function signInScreen(message) {
  state.screen = [signInScreen, []];  // drawn again in the other language when the person switches
  const serial = prefs.get("serial");
  const field = (id, label, attrs = {}) => h("label", {}, label, h("input", { id, name: id, ...attrs }));
  const error = h("p", { class: "error", id: "signin-error" }, message || "");
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { username: form.username.value.trim(), password: form.password.value,
                   device_serial: serial || form.serial.value.trim() };
    if (prefs.get("device_key")) body.device_key = prefs.get("device_key");
    try {
      const answer = await call("POST", "/session", body);
      prefs.set("serial", body.device_serial);  // entered once, kept for every later sign-in
      prefs.set("device_key", answer.device_key);
      prefs.set("token", answer.token);
      const { token, device_key: key, ...session } = answer;
      saveSession(session);
      drain();
      home();
      pollInbox();
    } catch (err) {
      error.textContent = err instanceof Offline ? t("signin.offline")
        : err instanceof Refused ? errorText(err.error) : String(err);
    }
  };
  mount(h("h1", {}, t("signin.title")),
    h("form", { id: "signin", onsubmit: submit },
      serial ? h("p", { id: "device" }, t("signin.device", { serial }), " ",
        button(t("signin.change_device"), () => { prefs.set("serial", null); prefs.set("device_key", null);
          signInScreen(); }, "small", { id: "change-device" }))
        : field("serial", t("signin.serial"), { required: true, autocomplete: "off", autocapitalize: "characters" }),
      field("username", t("signin.username"), { required: true, autocomplete: "username", autocapitalize: "none" }),
      field("password", t("signin.password"), { required: true, type: "password", autocomplete: "current-password" }),
      error, h("button", { type: "submit", class: "btn primary big", id: "signin-submit" }, t("signin.submit"))));
  drawBar();
}
routes.signIn = signInScreen;
routes.signOut = signOut;

// Writes still waiting belong to this person's token: they are sent (or decided) before anyone signs out.
async function signOut() {
  await flushTrack();  // the last positions go out with the rest while the token still works
  if ((await items()).length) {
    toast(t("signout.waiting"));
    return show(queueScreen);
  }
  try {
    await call("DELETE", "/session");
  } catch (err) {
    // the token dies with its 14 hours anyway; signing out must work without a network
  }
  await stopTracking({ keep: false });
  prefs.set("token", null);
  prefs.set("inbox_seen", null);
  saveSession(null);
  await forgetReads();
  signInScreen();
}

function watchNetwork() {
  const update = () => {
    state.online = navigator.onLine;
    drawBar();
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
}

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(() => {});
  }
  document.documentElement.lang = t("html_lang");
  watchNetwork();
  startOutbox();
  await countWaiting();
  home();
  drain();
  pollInbox();
  setInterval(pollInbox, 30000);
}

boot();
