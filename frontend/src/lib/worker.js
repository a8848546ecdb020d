// The service worker that keeps the app shell on the phone (vite-plugin-pwa / Workbox). A new
// version waits until the cadre taps "update", so a form being filled in is never reloaded away.
import {ref} from 'vue';

export const updateReady = ref(false);
let update = null;

export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const {registerSW} = await import('virtual:pwa-register');
  update = registerSW({
    immediate: true,
    onNeedRefresh() { updateReady.value = true; },
  });
}

/** Switch to the waiting version now (also what "update" does after a 426). */
export function applyUpdate() {
  if (update) update(true);
  else location.reload();
}
