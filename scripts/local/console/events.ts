/**
 * The console's event log: what happened to the running shop, newest last, as the launcher saw it. The launcher
 * records faults, failovers, restarts by the supervisor and climbs as they happen; the figures collector records
 * health transitions it sees between two polls (so those only while a console is open). In memory, the last
 * {@link MAX_EVENTS}: a learner's session, not an audit trail.
 */

/** What kind of thing happened. */
export type EventKind = "fault" | "failover" | "restart" | "health" | "climb" | "error";

/** One entry of the log. */
export interface ConsoleEvent {
  /** Increasing from 1: a page asks for the entries after the last one it has. */
  id: number;
  /** When, ISO 8601. */
  at: string;
  kind: EventKind;
  /** One sentence, as the launcher would print it. */
  text: string;
}

/** Entries kept; older ones are dropped first. */
export const MAX_EVENTS = 200;

export class EventLog {
  private readonly entries: ConsoleEvent[] = [];
  private nextId = 1;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Records one event; returns it. */
  add(kind: EventKind, text: string): ConsoleEvent {
    const event: ConsoleEvent = { id: this.nextId++, at: this.now().toISOString(), kind, text };
    this.entries.push(event);
    if (this.entries.length > MAX_EVENTS) this.entries.splice(0, this.entries.length - MAX_EVENTS);
    return event;
  }

  /** The kept entries with an id above `afterId` (all of them by default), oldest first. */
  since(afterId = 0): ConsoleEvent[] {
    return this.entries.filter((e) => e.id > afterId);
  }
}
