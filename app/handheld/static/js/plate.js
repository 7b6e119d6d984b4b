// The plate keyboard: the province row first (京津沪…), then letters and digits; 7 characters, or 8 for
// a new-energy plate.
import { button, h } from "./dom.js";
import { t } from "./i18n.js";

export const PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
const LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ";  // no I or O on plates
const DIGITS = "0123456789";
export const MAX_PLATE = 8;

export const plateComplete = (plate) => plate.length >= 7 && PROVINCES.includes(plate[0]);

export function plateKeyboard(getPlate, setPlate) {
  const keys = h("div", { class: "keys", id: "plate-keys" });
  const press = (ch) => {
    const plate = getPlate();
    if (plate.length < MAX_PLATE) setPlate(plate + ch);
    draw();
  };
  function draw() {
    const plate = getPlate();
    const rows = [];
    if (plate.length === 0) {
      rows.push(h("div", { class: "key-grid provinces" },
        [...PROVINCES].map((ch) => button(ch, () => press(ch), "key", { dataset: { key: ch } }))));
    } else {
      const letters = plate.length === 1 ? LETTERS : LETTERS + DIGITS;
      rows.push(h("div", { class: "key-grid" },
        [...(plate.length === 1 ? letters : DIGITS + LETTERS)].map(
          (ch) => button(ch, () => press(ch), "key", { dataset: { key: ch }, disabled: plate.length >= MAX_PLATE }))));
    }
    rows.push(h("div", { class: "key-row" },
      button(t("plate.delete"), () => { setPlate(getPlate().slice(0, -1)); draw(); }, "key wide", { id: "key-back" }),
      button(t("plate.clear"), () => { setPlate(""); draw(); }, "key wide", { id: "key-clear" })));
    keys.replaceChildren(...rows);
  }
  draw();
  return keys;
}
