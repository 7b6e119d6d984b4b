// The device API (/pos/v1), as any third party's app would call it.
import { prefs } from "./store.js";

export const BASE = "/pos/v1";

export class Offline extends Error {}

export class Refused extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "error";
    this.error = error;
  }
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = prefs.get("token");
  if (token) headers.Authorization = `Bearer ${token}`;
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, cache: "no-store",
                                          body: body === undefined || form ? body : JSON.stringify(body) });
  } catch (err) {
    throw new Offline(String(err));
  }
  if (response.status >= 500) throw new Offline(`HTTP ${response.status}`);
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) throw new Refused(response.status, data);
  return data;
}

export const get = (path) => call("GET", path);

export function newRef() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// Device times: ISO 8601 in UTC ("Z" is an offset); the server keeps them in the park's zone.
export const nowIso = () => new Date().toISOString();
