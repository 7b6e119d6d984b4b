// What the handheld keeps: small settings in localStorage, the outbox and the last answers in IndexedDB.

const DB_NAME = "parkingos-m";
let opening = null;

export const prefs = {
  get(key) {
    const raw = localStorage.getItem(`pos.${key}`);
    return raw === null ? null : JSON.parse(raw);
  },
  set(key, value) {
    if (value === null || value === undefined) localStorage.removeItem(`pos.${key}`);
    else localStorage.setItem(`pos.${key}`, JSON.stringify(value));
  },
};

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("kv", { keyPath: "key" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

async function run(store, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const result = work(tx.objectStore(store));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const outbox = {
  add: (item) => run("outbox", "readwrite", (s) => s.add(item)),
  put: (item) => run("outbox", "readwrite", (s) => s.put(item)),
  remove: (seq) => run("outbox", "readwrite", (s) => s.delete(seq)),
  all: () => run("outbox", "readonly", (s) => s.getAll()),
};

// The last answer of each read, with when it came, for offline screens.
export const kept = {
  async get(key) {
    const row = await run("kv", "readonly", (s) => s.get(key));
    return row || null;
  },
  set: (key, value) => run("kv", "readwrite", (s) => s.put({ key, value, at: Date.now() })),
  remove: (key) => run("kv", "readwrite", (s) => s.delete(key)),
};

// At sign-out: the last answers go; the outbox is empty by then (app.js refuses to sign out before).
export const forgetReads = () => run("kv", "readwrite", (s) => s.clear());
