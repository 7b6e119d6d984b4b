// Photos from the camera (entry, exit, evidence): a JPEG or PNG of at most the park's 5 MB, made smaller
// on the handheld when the camera's picture is larger.
import { newRef } from "./api.js";
import { button, h } from "./dom.js";
import { t } from "./i18n.js";
import { submit } from "./outbox.js";

export const MAX_BYTES = 5 * 1024 * 1024;
const MAX_SIDE = 1600;

async function fitted(file) {
  if (file.size <= MAX_BYTES && ["image/jpeg", "image/png"].includes(file.type)) return file;
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
}

// A camera button with a thumbnail; `onPhoto(blob)` gets the picture ready to send.
export function photoPicker(onPhoto, id = "photo") {
  const thumb = h("img", { class: "thumb hidden", alt: "", id: `${id}-thumb` });
  const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/*", capture: "environment",
                             class: "hidden", id: `${id}-input`, onchange: async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const blob = await fitted(file);
    thumb.src = URL.createObjectURL(blob);
    thumb.classList.remove("hidden");
    onPhoto(blob);
  } });
  return h("div", { class: "photo-row" }, input, button(t("photo.take"), () => input.click(), "", { id: `${id}-take` }),
           thumb);
}

// Queues the photo of an order: `target` is {path, extra} as the order screen names the order.
export function sendPhoto(target, kind, blob, label) {
  return submit("photo", `${target.path}/photos`, { client_ref: newRef(), kind }, { ...target.extra, photo: blob,
                                                                                    label: `${label} ${t(`photo.${kind}`)}` });
}
