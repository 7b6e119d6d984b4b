// Receipts to a Bluetooth thermal printer over Web Bluetooth, where the browser has it (Chrome on Android;
// handhelds with a built-in printer print through the browser's print instead, css/print.css).
import { receiptBytes } from "./escpos.js";

// The services cheap Bluetooth LE receipt printers offer for their print data (a browser may only open the
// services named when the person picks the printer).
const SERVICES = [0x18f0, 0xff00, 0xffe0, 0xfee7, "e7810a71-73ae-499d-8c15-faa9aef0c3f2",
  "49535343-fe7d-4ae5-8fa9-9fafd205e455"];
const CHUNK = 20;  // what every Bluetooth LE link carries in one write (the smallest MTU)

let characteristic = null;  // the printer chosen during this run of the app

export const bluetoothPrinting = () => Boolean(navigator.bluetooth && navigator.bluetooth.requestDevice);

async function connect() {
  const device = await navigator.bluetooth.requestDevice({ acceptAllDevices: true, optionalServices: SERVICES });
  const server = await device.gatt.connect();
  for (const service of await server.getPrimaryServices()) {
    for (const found of await service.getCharacteristics()) {
      if (found.properties.write || found.properties.writeWithoutResponse) return found;
    }
  }
  throw new Error("no_print_characteristic");
}

function connected() {
  return characteristic && characteristic.service && characteristic.service.device
    && characteristic.service.device.gatt.connected;
}

async function write(bytes) {
  if (!connected()) characteristic = await connect();
  for (let at = 0; at < bytes.length; at += CHUNK) {
    const part = bytes.slice(at, at + CHUNK);
    if (characteristic.properties.writeWithoutResponse && characteristic.writeValueWithoutResponse) {
      await characteristic.writeValueWithoutResponse(part);
    } else {
      await characteristic.writeValue(part);
    }
  }
}

// Prints the receipt; answers null, or the reason it did not ("cancelled" when the person closed the
// printer chooser).
export async function printReceipt(receipt) {
  try {
    await write(receiptBytes(receipt));
    return null;
  } catch (err) {
    characteristic = null;
    return err && err.name === "NotFoundError" ? "cancelled" : String((err && err.message) || err);
  }
}
