import type { Logger } from './logger.js';

/** Something a parent closes, told why. close must be idempotent. */
export interface Closable {
  close(reason: string): Promise<void> | void;
}

interface Child {
  name: string;
  child: Closable;
}

/**
 * A node of the shutdown tree (mediasoup style): it keeps its children in the order they were
 * added and closes them one after another, each told the reason; close() is idempotent (a second
 * call gets the first one's promise), a child that fails is logged with its path and the others
 * still close. A child added after the close began is closed at once.
 */
export class Owner implements Closable {
  readonly name: string;
  readonly #children: Child[] = [];
  readonly #log: Logger;
  #closing?: Promise<void>;
  #reason?: string;

  constructor(name: string, log: Logger) {
    this.name = name;
    this.#log = log;
  }

  /** Why it closed (undefined while open). */
  get closedReason(): string | undefined {
    return this.#reason;
  }

  /** The children's names, in closing order. */
  get childNames(): string[] {
    return this.#children.map((c) => c.name);
  }

  /** Adds a child, closed after those added before it; returns it. */
  add<T extends Closable>(name: string, child: T): T {
    this.#children.push({ name, child });
    if (this.#reason !== undefined) void this.#closeChild({ name, child }, this.#reason);
    return child;
  }

  /** Adds a child node of its own (a subtree) and returns it. */
  branch(name: string): Owner {
    return this.add(name, new Owner(`${this.name}/${name}`, this.#log));
  }

  /** Adds a step given as a function (a part whose close is not a method called close). */
  step(name: string, fn: (reason: string) => Promise<unknown> | unknown): void {
    let done: Promise<void> | undefined;
    this.add(name, { close: (reason: string) => (done ??= Promise.resolve().then(() => fn(reason)).then(() => undefined)) });
  }

  /** Closes every child in order, passing the reason down; resolves when all are closed. */
  close(reason: string): Promise<void> {
    this.#closing ??= this.#closeAll(reason);
    return this.#closing;
  }

  async #closeAll(reason: string): Promise<void> {
    this.#reason = reason;
    for (const c of this.#children) await this.#closeChild(c, reason);
  }

  async #closeChild(c: Child, reason: string): Promise<void> {
    try {
      await c.child.close(reason);
    } catch (err) {
      this.#log.error({ err, part: `${this.name}/${c.name}`, reason }, `${c.name} close failed`);
    }
  }
}
