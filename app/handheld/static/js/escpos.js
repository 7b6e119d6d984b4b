// ESC/POS for 58 mm thermal printers: a receipt as the bytes the printer takes, Chinese in GB18030 (the code
// page Chinese printers start in). 32 columns a line: an ASCII character takes one, a Chinese character two,
// which is also its length in GB18030 bytes.
//
// The browser has a GB18030 decoder but no encoder; rather than ship a 24,000-entry table, the table is built
// once from the decoder (every two-byte code, lead 0x81-0xFE, trail 0x40-0xFE). That covers GBK, i.e. every
// character a receipt holds; a character outside it (four-byte GB18030, emoji) prints as "?".

export const COLUMNS = 32;
const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const LF = 0x0a;

let table = null;  // character -> [lead, trail]

function gbTable() {
  if (table) return table;
  table = new Map();
  const decoder = new TextDecoder("gb18030");
  for (let lead = 0x81; lead <= 0xfe; lead += 1) {
    for (let trail = 0x40; trail <= 0xfe; trail += 1) {
      if (trail === 0x7f) continue;
      const ch = decoder.decode(new Uint8Array([lead, trail]));
      if (ch.length === 1 && ch !== "\ufffd" && !table.has(ch)) table.set(ch, [lead, trail]);
    }
  }
  return table;
}

// The text in GB18030: ASCII as it is, Chinese as two bytes, anything else as "?".
export function encodeGb18030(text) {
  const out = [];
  for (const ch of String(text)) {
    const code = ch.codePointAt(0);
    if (code < 0x80) out.push(code);
    else out.push(...(gbTable().get(ch) || [0x3f]));
  }
  return out;
}

export const width = (text) => encodeGb18030(text).length;

// A label on the left and its value on the right of one 32-column line (the value's own line when both do
// not fit).
export function labelled(label, value) {
  const left = encodeGb18030(label);
  const right = encodeGb18030(value);
  if (left.length + 1 + right.length > COLUMNS) {
    return [...left, LF, ...new Array(Math.max(0, COLUMNS - right.length)).fill(0x20), ...right, LF];
  }
  return [...left, ...new Array(COLUMNS - left.length - right.length).fill(0x20), ...right, LF];
}

const INIT = [ESC, 0x40, FS, 0x26];  // reset; Chinese character mode
const center = (on) => [ESC, 0x61, on ? 1 : 0];
const bold = (on) => [ESC, 0x45, on ? 1 : 0];
const big = (on) => [GS, 0x21, on ? 0x11 : 0x00];  // double width and height
const FEED_AND_CUT = [ESC, 0x64, 4, GS, 0x56, 0x42, 0];  // 4 lines out past the tear bar; cut where there is a cutter

// The receipt's bytes. `rows` are [label, value] pairs already in the person's language; header, title
// (the park) and footer are centred.
export function receiptBytes({ header, title, rows, footer }) {
  const out = [...INIT];
  if (header) out.push(...center(true), ...encodeGb18030(header), LF);
  out.push(...center(true), ...bold(true), ...big(true), ...encodeGb18030(title), LF, ...big(false), ...bold(false));
  out.push(...center(false), ...encodeGb18030("-".repeat(COLUMNS)), LF);
  for (const [label, value] of rows) out.push(...labelled(label, value));
  out.push(...encodeGb18030("-".repeat(COLUMNS)), LF);
  if (footer) out.push(...center(true), ...encodeGb18030(footer), LF, ...center(false));
  out.push(...FEED_AND_CUT);
  return new Uint8Array(out);
}
