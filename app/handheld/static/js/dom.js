// Small DOM helpers: elements are built, never parsed from strings (no escaping to forget, nothing inline).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function button(label, onclick, cls = "", attrs = {}) {
  return h("button", { type: "button", class: `btn ${cls}`.trim(), onclick, ...attrs }, label);
}

export function mount(...children) {
  const screen = document.getElementById("screen");
  screen.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  window.scrollTo(0, 0);
}
