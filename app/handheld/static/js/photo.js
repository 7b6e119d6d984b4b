// Photos from the camera (an order's entry, exit and evidence photos, an inspector's task and report photos):
// a JPEG or PNG of at most the API's 5 MB, made smaller on the handheld when the camera's picture is larger.
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
export function photoPicker(onPhoto, id = "photo", label = t("photo.take")) {
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
  return h("div", { class: "photo-row" }, input, button(label, () => input.click(), "", { id: `${id}-take` }),
           thumb);
}

// Queues a photo for `target.path` + "/photos": an order's (with its kind: entry, exit, evidence), a task's or
// a report's; `target.extra` names the write still waiting whose answer gives the id ({parent} in the path).
export function sendPhoto(target, kind, blob, label) {
  const body = { client_ref: newRef() };
  if (kind) body.kind = kind;
  return submit("photo", `${target.path}/photos`, body,
                { ...target.extra, photo: blob, label: `${label} ${t(kind ? `photo.${kind}` : "kind.photo")}` });
}
