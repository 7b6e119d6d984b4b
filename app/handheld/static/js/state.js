// The app's state in memory; what outlives a restart is in store.js.
import { prefs } from "./store.js";

export const state = {
  session: prefs.get("session"),  // the sign-in's answer without its token
  online: navigator.onLine,
  waiting: 0,
  refused: 0,
  unread: 0,  // messages the person has not opened the inbox for
  screen: null,  // [render function, args] of the screen shown, to draw it again
};

export function saveSession(session) {
  state.session = session;
  prefs.set("session", session);
}
