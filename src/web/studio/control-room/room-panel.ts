/// <reference lib="dom" />
/**
 * The room in the control room (issue 14): the stream's chat over the room socket, authenticated
 * with the creator token in the auth frame (so the creator speaks as the host; reused from the
 * watch page: ChatSocket, and the chat panel's message list and item), Delete and Time out on each
 * message (DELETE .../room/messages/:mid, POST .../room/bans, this stream or all the creator's),
 * the shoppers timed out with Lift (GET / DELETE .../room/bans), slow mode and open/closed
 * (PATCH .../room, shown from the room's `room` frames), the viewer count, and the reaction tally:
 * the room's per-tick `reactions` frames summed per kind since the page opened. Every text is
 * rendered with textContent, never as HTML.
 */
import { ChatSocket, type RoomFrame } from '../../watch/chat-socket.js';
import { applyMessageFrame, chatItem } from '../../watch/chat-panel.js';
import type { ChatMessage } from '../../watch/replay-chat.js';
import { api, explainApiError } from '../creator-api.js';
import { button, el } from './dom.js';

/** Messages kept and shown. */
const MAX_SHOWN = 100;
/** The reaction kinds the room knows (src/room/room-fanout.ts), as the tally shows them. */
const REACTIONS: ReadonlyArray<[string, string]> = [['heart', '♥'], ['fire', '🔥'], ['clap', '👏'], ['laugh', '😂'], ['wow', '😮']];
const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60, 300];
const TIMEOUT_CHOICES = [1, 5, 10, 60, 1440];

/** What the test hook reports about the room. */
export interface StudioRoomState {
  /** The socket's auth frame was accepted: the creator speaks as the host. */
  authed: boolean;
  /** Message ids shown, oldest first. */
  shown: string[];
  settings: { slowModeSeconds: number; open: boolean } | null;
  /** Reactions per kind since the page opened. */
  reactions: Record<string, number>;
  viewers: number | null;
  /** Shoppers timed out of this room now (ids, from GET .../room/bans). */
  timedOut: string[];
  /** The last error codes the room answered (at most 20). */
  errors: string[];
  error: string | null;
}

const secondsText = (s: number): string => (s === 0 ? 'Off' : s < 60 ? `${s} s` : `${s / 60} min`);
const minutesText = (m: number): string => (m < 60 ? `${m} min` : m < 1440 ? `${m / 60} h` : `${m / 1440} day`);

function select(name: string, values: number[], text: (v: number) => string, value: number): HTMLSelectElement {
  const s = el('select', { name, id: name });
  s.append(...values.map((v) => el('option', { value: String(v), textContent: text(v), selected: v === value })));
  return s;
}

/** Builds the room panel for `streamId` into `host` and runs its socket. */
export function mountRoomPanel(host: HTMLElement, token: string, streamId: string, state: StudioRoomState): void {
  const base = `/v1/streams/${encodeURIComponent(streamId)}/room`;
  const message = el('p', { className: 'console-message', role: 'status' } as Partial<HTMLParagraphElement>);
  const viewers = el('span', { className: 'room-viewers', id: 'room-viewers' });
  const tally = el('p', { className: 'reaction-tally', id: 'reaction-tally' });
  const settings = el('div', { className: 'room-settings' });
  const slow = select('slow-mode', SLOW_MODE_CHOICES, secondsText, 0);
  const openState = el('span', { className: 'room-open-state', id: 'room-open-state' });
  const openToggle = button('Close chat', 'room-open-toggle', () => patch({ open: !(state.settings?.open ?? true) }));
  openToggle.id = 'room-open-toggle';
  const slowLabel = el('label', { htmlFor: 'slow-mode', textContent: 'Slow mode ' });
  const timeout = select('timeout-minutes', TIMEOUT_CHOICES, minutesText, 10);
  const timeoutLabel = el('label', { htmlFor: 'timeout-minutes', textContent: 'Time-out ' });
  const everywhere = el('input', { type: 'checkbox', id: 'timeout-everywhere', name: 'timeout-everywhere' });
  const everywhereLabel = el('label', { htmlFor: 'timeout-everywhere', textContent: ' on all my streams' });
  everywhereLabel.prepend(everywhere);
  const timeoutRow = el('div', { className: 'room-settings' });
  settings.append(slowLabel, slow, openState, openToggle);
  timeoutRow.append(timeoutLabel, timeout, everywhereLabel);
  const bansList = el('ul', { className: 'room-bans', id: 'room-bans' });
  const log = el('ol', { className: 'chat-log studio-chat-log', id: 'studio-chat-log' });
  log.setAttribute('aria-live', 'polite');
  const compose = el('form', { className: 'chat-compose', id: 'host-compose', autocomplete: 'off' } as Partial<HTMLFormElement>);
  const input = el('input', { className: 'chat-input', name: 'text', maxLength: 300, placeholder: 'Say something as the host' });
  compose.append(input, el('button', { type: 'submit', className: 'chat-send', textContent: 'Send' }));
  const heading = el('h2', { textContent: 'Chat ' });
  heading.append(viewers);
  host.append(heading, tally, settings, timeoutRow, message, log, compose, bansList);

  const messages = new Map<string, ChatMessage>();
  /** Shoppers' names seen in messages, for the time-out list (bounded like the messages). */
  const names = new Map<string, string>();
  const fail = (err: unknown): void => { state.error = explainApiError(err); message.textContent = state.error; };
  const ok = (): void => { state.error = null; message.textContent = ''; };

  function patch(body: { slowModeSeconds?: number; open?: boolean }): void {
    // The room's `room` frame brings the new settings to every socket, this one included.
    api<{ slowModeSeconds: number; open: boolean }>(token, 'PATCH', base, body).then((s) => { ok(); showSettings(s); }, fail);
  }
  function showSettings(s: { slowModeSeconds: number; open: boolean }): void {
    state.settings = { slowModeSeconds: s.slowModeSeconds, open: s.open };
    // A value set elsewhere (the API, another device) that the choices lack is added to them.
    if (![...slow.options].some((x) => Number(x.value) === s.slowModeSeconds)) slow.append(el('option', { value: String(s.slowModeSeconds), textContent: secondsText(s.slowModeSeconds) }));
    slow.value = String(s.slowModeSeconds);
    openState.textContent = s.open ? 'Chat open' : 'Chat closed to shoppers';
    openToggle.textContent = s.open ? 'Close chat' : 'Open chat';
  }
  function showTally(): void {
    tally.replaceChildren(...REACTIONS.map(([kind, glyph]) => {
      const s = el('span', { className: 'reaction-count', textContent: `${glyph} ${state.reactions[kind] ?? 0}`, title: kind });
      s.dataset.kind = kind;
      s.setAttribute('aria-label', `${kind}: ${state.reactions[kind] ?? 0}`);
      return s;
    }));
  }

  function item(m: ChatMessage): HTMLLIElement {
    const li = chatItem(m);
    const actions = el('span', { className: 'chat-actions' });
    actions.append(button('Delete', 'chat-delete', () => {
      // The room's chat.deleted frame removes it here and on every other page.
      api(token, 'DELETE', `${base}/messages/${encodeURIComponent(m.id)}`).then(ok, fail);
    }));
    if (m.author.role === 'shopper') {
      actions.append(button('Time out', 'chat-timeout', () => {
        const minutes = Number(timeout.value);
        const scope = everywhere.checked ? 'creator' : 'stream';
        api(token, 'POST', `${base}/bans`, { shopperId: m.author.id, minutes, scope }).then(() => {
          ok();
          message.textContent = `${m.author.displayName} is timed out for ${minutesText(minutes)}${scope === 'creator' ? ' on all your streams' : ''}.`;
          return loadBans();
        }, fail);
      }));
    }
    li.append(actions);
    return li;
  }
  interface Ban { shopperId: string; scope: 'stream' | 'creator'; until: string | null }
  async function loadBans(): Promise<void> {
    try {
      const bans = (await api<{ items: Ban[] }>(token, 'GET', `${base}/bans`)).items;
      state.timedOut = [...new Set(bans.map((b) => b.shopperId))];
      bansList.replaceChildren(...bans.map((b) => {
        const li = el('li');
        li.dataset.shopperId = b.shopperId;
        const until = b.until ? `until ${new Date(b.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : 'until lifted';
        li.append(`${names.get(b.shopperId) ?? b.shopperId} timed out ${until}${b.scope === 'creator' ? ' (all your streams)' : ''} `, button('Lift', 'ban-lift', () => {
          // Without a scope both are lifted: this shopper may talk here again.
          api(token, 'DELETE', `${base}/bans/${encodeURIComponent(b.shopperId)}`).then(() => { ok(); return loadBans(); }, fail);
        }));
        return li;
      }));
    } catch (err) {
      fail(err);
    }
  }

  function render(): void {
    const items = [...messages.values()].slice(-MAX_SHOWN);
    for (const m of items) {
      if (m.author.role !== 'shopper') continue;
      names.delete(m.author.id);
      names.set(m.author.id, m.author.displayName);
      if (names.size > MAX_SHOWN) names.delete(names.keys().next().value!);
    }
    const ids = items.map((m) => m.id);
    if (ids.join() === state.shown.join()) return;
    state.shown = ids;
    log.replaceChildren(...items.map(item));
    log.scrollTop = log.scrollHeight;
  }

  const socket = new ChatSocket({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}`,
    token: () => token,
    onOpen: () => { state.authed = false; },
    onFrame: (f: RoomFrame) => {
      if (applyMessageFrame(messages, f, MAX_SHOWN)) return render();
      switch (f.type) {
        case 'auth.ok':
          state.authed = true;
          return;
        case 'room':
          return showSettings(f as unknown as { slowModeSeconds: number; open: boolean });
        case 'viewers':
          state.viewers = f.count as number;
          viewers.textContent = `· ${state.viewers} in the room`;
          return;
        case 'reactions':
          for (const [kind, n] of Object.entries(f.counts as Record<string, number>)) state.reactions[kind] = (state.reactions[kind] ?? 0) + n;
          return showTally();
        case 'error':
          state.errors = [...state.errors, f.code as string].slice(-20);
          fail(new Error(typeof f.message === 'string' ? f.message : String(f.code)));
          return;
        default:
          return;
      }
    },
  });

  compose.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (socket.send({ type: 'chat', text })) input.value = '';
    else fail(new Error('Not connected to the room: try again in a moment.'));
  });
  slow.addEventListener('change', () => patch({ slowModeSeconds: Number(slow.value) }));
  showTally();
  void loadBans();
  socket.start();
}
