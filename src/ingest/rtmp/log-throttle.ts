/**
 * A per-second budget for log lines that a remote peer can trigger (refused connections, garbage):
 * a flood of hostile connections must not become a flood of log lines. Over budget, lines are
 * counted and the count is logged once the next second starts.
 */
import type { Logger } from '../../core/logger.js';

/** Lets at most `perSecond` lines through each second and reports how many it held back. */
export class LogThrottle {
  #windowStart = 0;
  #used = 0;
  #suppressed = 0;

  constructor(private readonly logger: Logger, private readonly perSecond: number, private readonly what: string) {}

  /** Logs a warn line if the budget allows, else counts it. */
  warn(fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      if (this.#suppressed > 0) this.logger.warn({ suppressed: this.#suppressed }, `${this.what}: ${this.#suppressed} similar log lines suppressed`);
      this.#windowStart = now;
      this.#used = 0;
      this.#suppressed = 0;
    }
    if (this.#used < this.perSecond) {
      this.#used++;
      this.logger.warn(fields, msg);
    } else {
      this.#suppressed++;
    }
  }
}
