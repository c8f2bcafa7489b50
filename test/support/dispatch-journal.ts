import { Injectable } from '@nestjs/common';
import { IntelligenceHandler } from '../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../../src/intelligence/wire/intelligence-event.interface.js';
import { IntelligenceNode } from '../../src/intelligence/dispatch/intelligence-node.decorator.js';

/** The payload of the messages the handover tests produce. */
export interface Numbered {
  id: string;
}

export interface JournalEntry {
  app: string;
  id: string;
  partition: number;
}

/** What each app's handler started and finished, shared by the apps of one test. */
export class Journal {
  readonly started: JournalEntry[] = [];
  readonly finished: JournalEntry[] = [];

  startedBy(app: string): string[] {
    return this.started.filter((entry) => entry.app === app).map((entry) => entry.id);
  }

  finishedBy(app: string): string[] {
    return this.finished.filter((entry) => entry.app === app).map((entry) => entry.id);
  }

  /** Ids started by `app` and not finished (yet). */
  inFlight(app: string): string[] {
    const finished = new Set(this.finishedBy(app));
    return this.startedBy(app).filter((id) => !finished.has(id));
  }

  /** Distinct ids finished by any app. */
  handledIds(): Set<string> {
    return new Set(this.finished.map((entry) => entry.id));
  }
}

/**
 * A node class for one app: records into `journal` under `app`, doing `work(event)` in between
 * (the slow part the tests stop in the middle of).
 */
export function journalNode(
  topic: string,
  app: string,
  journal: Journal,
  work: (event: IntelligenceEvent<Numbered>) => Promise<void>,
) {
  @IntelligenceNode({ name: 'journal', kind: 'compute', version: '1.0.0' })
  @Injectable()
  class JournalNode {
    @IntelligenceHandler(topic)
    async handle(event: IntelligenceEvent<Numbered>): Promise<void> {
      const entry = { app, id: event.payload.id, partition: event.partition };
      journal.started.push(entry);
      await work(event);
      journal.finished.push(entry);
    }
  }
  return JournalNode;
}

/** Ids no one finished. */
export function missing(all: readonly string[], handled: Set<string>): string[] {
  return all.filter((id) => !handled.has(id));
}
