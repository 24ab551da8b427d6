import type { Session } from "../session.js";

/**
 * Small numbers for sessions, so that batchers can group requests by session in a string key without
 * holding sessions alive (0 = no session).
 */
export class SessionIds {
  readonly #ids = new WeakMap<Session, number>();
  #next = 1;

  of(session: Session | undefined): number {
    if (!session) return 0;
    let id = this.#ids.get(session);
    if (id === undefined) {
      id = this.#next++;
      this.#ids.set(session, id);
    }
    return id;
  }
}
