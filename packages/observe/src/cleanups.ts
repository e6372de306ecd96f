import { type Logger } from '@cdc/core';

/**
 * What a service must undo when it stops, or when its start fails half-way: each client, timer
 * and file is registered as soon as it is made, and undone in reverse order (a consumer
 * disconnects before the store it writes to closes). One failing cleanup is logged and the others
 * still run: a stop never leaves a client open because another one threw.
 */
export class Cleanups {
  private readonly steps: (() => Promise<void> | void)[] = [];

  constructor(private readonly log: Logger) {}

  /** Registers `step`, run before every step registered earlier. */
  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  /** Runs every step registered so far, newest first, once. Never throws. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.log.warn({ err }, 'error while shutting down');
      }
    }
  }

  /** Runs `start`; if it throws, undoes what it registered before rethrowing. */
  async starting<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      await this.run();
      throw err;
    }
  }
}
