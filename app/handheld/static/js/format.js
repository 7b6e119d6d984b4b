// Money in fen, times from ISO 8601 (whatever offset they carry) shown in the park's zone.
import { lang } from "./i18n.js";
import { state } from "./state.js";

export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  return `¥${(fen / 100).toFixed(2)}`;
}

function zone() {
  return (state.session && state.session.park && state.session.park.timezone) || undefined;
}

export function clock(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB",
                                          { timeZone: zone(), hour: "2-digit", minute: "2-digit" });
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB",
                                      { timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit",
                                        hour: "2-digit", minute: "2-digit" });
}

export function minutesBetween(fromIso, to = new Date()) {
  return Math.max(0, Math.floor((to - new Date(fromIso)) / 60000));
}
