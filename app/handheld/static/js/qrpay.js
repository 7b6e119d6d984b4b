// 扫码支付: the driver pays the order's fee by phone. The handheld asks the server for a QR code of the fee due
// now (POST /orders/{id}/payments), shows it, and polls the payment until the provider's notice settled the
// order (the server settles it; the handheld only watches). Needs the network: offline, take the fee otherwise.
import { call, get, newRef, Offline, Refused } from "./api.js";
import { button, h, mount } from "./dom.js";
import { yuan } from "./format.js";
import { errorText, TEXTS, t } from "./i18n.js";

Object.assign(TEXTS.zh, {
  "qrpay.button": "扫码支付", "qrpay.title": "请车主扫码支付", "qrpay.waiting": "等待车主支付…",
  "qrpay.paid": "{plate} 已扫码支付 {amount}", "qrpay.closed": "二维码已过期，请重新生成。",
  "qrpay.failed": "支付失败，请改用其他方式收费。", "qrpay.flagged": "已支付但未结算（{flag}），已自动退款或待管理员处理。",
  "qrpay.again": "重新生成", "qrpay.offline": "扫码支付需要联网。", "qrpay.cancel": "改用其他方式",
  "error.no_merchant_account": "本车场未开通扫码支付。", "error.nothing_due": "无需收费，请直接结算。",
  "error.payment_unavailable": "支付服务暂不可用，请稍后再试或改用其他方式。",
});
Object.assign(TEXTS.en, {
  "qrpay.button": "Pay by phone", "qrpay.title": "Let the driver scan to pay", "qrpay.waiting": "Waiting for the driver…",
  "qrpay.paid": "{plate} paid {amount} by phone", "qrpay.closed": "The QR code expired: make a new one.",
  "qrpay.failed": "The payment failed: take the fee otherwise.",
  "qrpay.flagged": "Paid but not settled ({flag}): refunded automatically or left to a manager.",
  "qrpay.again": "New QR code", "qrpay.offline": "Paying by phone needs the network.", "qrpay.cancel": "Take it otherwise",
  "error.no_merchant_account": "This park does not take payments by phone.",
  "error.nothing_due": "Nothing is due: settle instead.",
  "error.payment_unavailable": "The payment service is away: try again or take the fee otherwise.",
});

const POLL_MS = 2000;

// The button for the order screen; `back` returns to it, `done` leaves once the order is settled.
export function qrPayButton(order, plate, back, done) {
  return button(t("qrpay.button"), () => qrPayScreen(order, plate, back, done), "big", { id: "settle-qr" });
}

function svgOf(markup) {
  // the server's own SVG (segno), parsed rather than assigned as HTML; sized by attributes (no inline style)
  const svg = new DOMParser().parseFromString(markup, "text/html").querySelector("svg");
  const size = svg.getAttribute("width");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("width", "240");
  svg.setAttribute("height", "240");
  return document.adoptNode(svg);
}

async function qrPayScreen(order, plate, back, done) {
  let payment;
  try {
    payment = (await call("POST", `/orders/${order.id}/payments`, { client_ref: newRef() })).payment;
  } catch (err) {
    const text = err instanceof Offline ? t("qrpay.offline") : err instanceof Refused ? errorText(err.error) : String(err);
    return mount(h("p", { class: "notice", id: "qr-problem" }, text), button(t("back"), back, "big", { id: "back" }));
  }
  const status = h("p", { class: "center", id: "qr-status" }, t("qrpay.waiting"));
  let stopped = false;
  const leave = (then) => () => { stopped = true; then(); };
  mount(h("h1", {}, t("qrpay.title")),
    h("p", { class: "due" }, h("span", { class: "plate inline" }, plate), " ", h("strong", { id: "qr-amount" },
      yuan(payment.amount_fen))),
    h("div", { class: "center", id: "qr-code", dataset: { payment: String(payment.id) } }, svgOf(payment.qr_svg)),
    status,
    h("div", { class: "actions" }, button(t("qrpay.cancel"), leave(back), "", { id: "qr-cancel" })));
  while (!stopped) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (stopped || !document.getElementById("qr-code")) return;
    try {
      payment = (await get(`/payments/${payment.id}`)).payment;
    } catch (err) {
      continue;  // a poll lost to the network: the next one asks again
    }
    if (payment.state === "created") continue;
    stopped = true;
    if (payment.state === "paid" && payment.settled) {
      return done(t("qrpay.paid", { plate, amount: yuan(payment.amount_fen) }));
    }
    const text = payment.flag ? t("qrpay.flagged", { flag: payment.flag })
      : payment.state === "closed" ? t("qrpay.closed") : t("qrpay.failed");
    status.textContent = text;
    status.className = "notice";
    document.getElementById("qr-code").replaceChildren();
    document.querySelector(".actions").prepend(
      button(t("qrpay.again"), () => qrPayScreen(order, plate, back, done), "primary big", { id: "qr-again" }));
  }
}
