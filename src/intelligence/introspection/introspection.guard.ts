import { Injectable } from '@nestjs/common';

/** A second startup introspection in the same wiring. */
export class IntrospectionAlreadyPublishedError extends Error {
  override readonly name = 'IntrospectionAlreadyPublishedError';
  constructor() {
    super('Startup introspection was already called for this application; reset the guard first');
  }
}

/**
 * Lets startup introspection run once per wiring of one application. A DI singleton (never a
 * process global), so two apps in one process have their own. Concurrent callers share the
 * one in-flight publish; a failed publish leaves the guard open again; `reset()` reopens it.
 */
@Injectable()
export class IntrospectionGuard {
  private state: 'open' | 'in-flight' | 'done' = 'open';
  private inFlight: Promise<unknown> | undefined;
  private generation = 0;

  /** Whether introspection has been published (or is being published) since the last reset. */
  get acquired(): boolean {
    return this.state !== 'open';
  }

  /**
   * Runs `publish` if the guard is open. Callers arriving while it runs get the same promise;
   * callers after it succeeded get `IntrospectionAlreadyPublishedError`.
   */
  run<T>(publish: () => Promise<T>): Promise<T> {
    if (this.state === 'in-flight') return this.inFlight as Promise<T>;
    if (this.state === 'done') return Promise.reject(new IntrospectionAlreadyPublishedError());
    this.state = 'in-flight';
    const generation = this.generation;
    const attempt = Promise.resolve()
      .then(publish)
      .then(
        (value) => {
          if (generation === this.generation) this.state = 'done';
          return value;
        },
        (error: unknown) => {
          if (generation === this.generation) this.state = 'open';
          throw error;
        },
      );
    this.inFlight = attempt;
    return attempt;
  }

  /** Reopens the guard, whatever its state; an in-flight publish no longer sets it. */
  reset(): void {
    this.generation += 1;
    this.state = 'open';
    this.inFlight = undefined;
  }
}
