// Reads that outlive the network: the last answer of each is kept, and shown offline with its age.
import { get, Offline } from "./api.js";
import { kept } from "./store.js";

// A read, or when the network is away the last answer with how old it is.
export async function readKept(key, path) {
  try {
    const data = await get(path);
    await kept.set(key, data);
    return { data, at: Date.now(), stale: false };
  } catch (err) {
    if (!(err instanceof Offline)) throw err;
    const row = await kept.get(key);
    return row ? { data: row.value, at: row.at, stale: true } : null;
  }
}
