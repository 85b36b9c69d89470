/**
 * A room's outgoing events between two flushes, each serialized and framed once for every socket.
 * A room of 10,000 sockets costs one socket write per socket per flush, whatever the number of
 * events in it (chat, the tick's reactions and viewer count), and no per-socket allocation: every
 * socket is written the same bytes (or a tail of them, for a socket that joined mid-batch).
 */
export class RoomOutbox<E> {
  #events: E[] = [];
  #frames: Buffer[] = [];
  #bytes = 0;

  /** Events queued since the last take(). */
  get length(): number {
    return this.#events.length;
  }

  /** Queues an event and its JSON text, framed as one WebSocket text message. */
  push(event: E, text: string): void {
    const frame = textFrame(Buffer.from(text, 'utf8'));
    this.#events.push(event);
    this.#frames.push(frame);
    this.#bytes += frame.length;
  }

  /** The queued events from index `from` on (for sockets that hold events until their history is sent). */
  eventsFrom(from: number): E[] {
    return this.#events.slice(from);
  }

  /**
   * Empties the outbox: the events, the frames joined in one buffer, and where each event's frame
   * starts in it (a socket that joined after event i is written data.subarray(offsets[i])).
   */
  take(): { events: E[]; data: Buffer; offsets: number[] } {
    const offsets: number[] = [];
    let at = 0;
    for (const f of this.#frames) {
      offsets.push(at);
      at += f.length;
    }
    const data = this.#frames.length === 1 ? this.#frames[0]! : Buffer.concat(this.#frames, this.#bytes);
    const events = this.#events;
    this.#events = [];
    this.#frames = [];
    this.#bytes = 0;
    return { events, data, offsets };
  }
}

/**
 * One unmasked, unfragmented WebSocket text frame (RFC 6455 section 5.2: a server's frames are not
 * masked). Written here rather than by ws's Sender because ws frames per send and per socket (a
 * header allocated each time, a string encoded each time); the room sends the same bytes to all.
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, head);
  return frame;
}
