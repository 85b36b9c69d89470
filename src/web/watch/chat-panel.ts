/// <reference lib="dom" />
/**
 * The watch page's chat: the room's messages (live over the room socket; in a replay following the
 * playhead), join-chat with a display name (POST /v1/shoppers; the token kept in localStorage and
 * sent only in the room's auth frame), a reaction button with floating hearts, and the viewer
 * count. Every text is rendered with textContent, never as HTML.
 */
import { ChatSocket, type RoomFrame } from './chat-socket.js';
import { ReplayChat, type ChatMessage } from './replay-chat.js';
import { createShopper, forgetShopper, storedShopper } from './shopper.js';

const MAX_SHOWN = 100;
const MAX_HEARTS = 12;

/** What the test hook (window.__showcaseChat) shows. */
export interface ChatHook {
  mode: 'live' | 'replay';
  joined: boolean;
  /** The socket's auth frame was accepted (the shopper may post). */
  authed: boolean;
  viewers: number | null;
  shown: string[];
  playheadMs: number | null;
  errors: string[];
  reactions: number;
}

export interface ChatPanelOptions {
  streamId: string;
  /** Whether the page plays the replay (else live), and the playhead's program date time (ms). */
  mode: () => 'live' | 'replay';
  playheadMs: () => number | null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One message as a list item (author and text as text, never HTML); the studio adds its buttons to it. */
export function chatItem(m: ChatMessage): HTMLLIElement {
  const li = el('li', `chat-msg chat-${m.author.role}`);
  li.dataset.id = m.id;
  li.append(el('span', 'chat-author', m.author.displayName), el('span', 'chat-text', m.text));
  return li;
}

/**
 * Applies a history, chat or chat.deleted frame to the messages kept by id (a reconnect's history
 * shows nothing twice; at most `max` kept, the oldest dropped); whether the frame was one of those.
 */
export function applyMessageFrame(messages: Map<string, ChatMessage>, f: RoomFrame, max: number): boolean {
  if (f.type === 'history') for (const m of f.items as ChatMessage[]) messages.set(m.id, m);
  else if (f.type === 'chat') messages.set(f.id as string, f as unknown as ChatMessage);
  else if (f.type === 'chat.deleted') messages.delete(f.id as string);
  else return false;
  while (messages.size > max) messages.delete(messages.keys().next().value!);
  return true;
}

/** Builds the chat into root and runs it. */
export function startChatPanel(root: HTMLElement, o: ChatPanelOptions): ChatHook {
  const hook: ChatHook = { mode: o.mode(), joined: false, authed: false, viewers: null, shown: [], playheadMs: null, errors: [], reactions: 0 };
  const viewers = el('span', 'chat-viewers', '');
  const log = el('ol', 'chat-log');
  log.setAttribute('aria-live', 'polite');
  const hearts = el('div', 'chat-hearts');
  const form = el('form', 'chat-compose');
  const input = el('input', 'chat-input');
  input.maxLength = 300;
  input.autocomplete = 'off';
  const send = el('button', 'chat-send', 'Join chat');
  send.type = 'submit';
  const react = el('button', 'chat-react', '♥');
  react.type = 'button';
  react.setAttribute('aria-label', 'Send a heart');
  const notice = el('p', 'chat-notice');
  form.append(input, send, react);
  root.append(viewers, log, hearts, notice, form);

  let me = storedShopper();
  const messages = new Map<string, ChatMessage>();

  const render = (items: ChatMessage[]): void => {
    const ids = items.map((m) => m.id);
    if (ids.join() === hook.shown.join()) return;
    hook.shown = ids;
    log.replaceChildren(...items.map(chatItem));
    log.scrollTop = log.scrollHeight;
  };
  const renderLive = (): void => render([...messages.values()].slice(-MAX_SHOWN));
  const setJoined = (): void => {
    hook.joined = !!me;
    input.placeholder = me ? `Chat as ${me.displayName}` : 'Your name to join the chat';
    send.textContent = me ? 'Send' : 'Join chat';
    input.maxLength = me ? 300 : 32;
  };
  const say = (text: string): void => {
    notice.textContent = text;
  };

  const socket = new ChatSocket({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/streams/${encodeURIComponent(o.streamId)}/room`,
    token: () => me?.token,
    onFrame: (f: RoomFrame) => {
      if (applyMessageFrame(messages, f, MAX_SHOWN * 2)) {
        if (hook.mode === 'live') renderLive();
        return;
      }
      switch (f.type) {
        case 'auth.ok':
          hook.authed = true;
          return;
        case 'viewers':
          hook.viewers = f.count as number;
          viewers.textContent = `${f.count as number} watching`;
          return;
        case 'reactions':
          for (const [, n] of Object.entries(f.counts as Record<string, number>)) for (let i = 0; i < Math.min(n, 3); i++) heart();
          return;
        case 'error':
          hook.errors.push(f.code as string);
          if (hook.errors.length > 20) hook.errors.shift();
          if (f.code === 'SHOWCASE_ERR_UNAUTHORIZED') {
            forgetShopper();
            me = undefined;
            setJoined();
          }
          say(typeof f.message === 'string' ? f.message : 'Not sent');
          return;
        default:
          return;
      }
    },
  });

  function heart(): void {
    if (hearts.childElementCount >= MAX_HEARTS) return;
    const h = el('span', 'chat-heart', '♥');
    h.style.left = `${10 + Math.random() * 70}%`;
    h.addEventListener('animationend', () => h.remove());
    // Where animations are off, the heart still goes.
    window.setTimeout(() => h.remove(), 2500);
    hearts.append(h);
  }

  react.addEventListener('click', () => {
    if (socket.send({ type: 'reaction', kind: 'heart' })) {
      hook.reactions++;
      heart();
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!me) {
      void createShopper(text).then((created) => {
        me = created;
        input.value = '';
        say('');
        setJoined();
        hook.authed = false;
        socket.restart();
      }, (err: Error) => say(err.message));
      return;
    }
    if (socket.send({ type: 'chat', text })) {
      input.value = '';
      say('');
    } else say('Not connected: try again in a moment');
  });

  const replay = new ReplayChat(`/v1/streams/${encodeURIComponent(o.streamId)}/room/messages`, render);
  window.setInterval(() => {
    const mode = o.mode();
    if (mode !== hook.mode) {
      hook.mode = mode;
      root.dataset.mode = mode;
      replay.reset();
      hook.shown = [];
      if (mode === 'live') renderLive();
    }
    if (mode === 'replay') {
      const t = o.playheadMs();
      hook.playheadMs = t;
      if (t !== null) replay.tick(t);
    }
  }, 250);

  root.dataset.mode = hook.mode;
  setJoined();
  socket.start();
  return hook;
}
