import { EventEmitter } from 'node:events';

/**
 * A typed EventEmitter whose safeEmit never lets a throwing listener crash the emitter
 * (mediasoup's convention): the error is reported to the 'listenererror' hook instead.
 */
export class TypedEmitter<Events extends Record<string, unknown[]>> {
  readonly #ee = new EventEmitter();
  onListenerError: (event: string, error: unknown) => void = () => {};

  constructor() {
    this.#ee.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.#ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.#ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Calls every listener; one that throws is reported and the others still run. */
  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    const listeners = this.#ee.listeners(event);
    for (const listener of listeners) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
    return listeners.length > 0;
  }

  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.#ee.listenerCount(event);
  }

  removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }
}
