// The alert stream (GET /api/v1/alerts/stream, server-sent events) read with fetch, so the
// token travels in a header. States: connecting | live | reconnecting | ended.
import {ref} from 'vue';
import {basicAuth, deviceHeaders} from '../../lib/api.js';
import {deviceId} from '../../lib/ids.js';
import {credentials} from '../../lib/session.js';

export const liveState = ref('connecting');

export function follow(session, onAlert) {
  let stopped = false;
  let controller = null;
  let wait = 1000;

  async function once() {
    controller = new AbortController();
    const {username, secret} = credentials(session.current);
    const response = await fetch('/api/v1/alerts/stream?heartbeat=15', {
      headers: {...deviceHeaders(deviceId()), Authorization: basicAuth(username, secret)},
      signal: controller.signal, cache: 'no-store'});
    if (response.status === 401) { session.requirePassword(); stopped = true; return; }
    if (!response.ok || !response.body) throw new Error(`stream ${response.status}`);
    liveState.value = 'live';
    wait = 1000;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (event === 'alert' && data) onAlert(JSON.parse(data));
        if (event === 'ended') { session.requirePassword(); stopped = true; liveState.value = 'ended'; return; }
      }
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch {
        /* network or server: try again */
      }
      if (stopped) break;
      liveState.value = 'reconnecting';
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 30_000);
    }
  })();
  return () => { stopped = true; controller?.abort(); };
}
