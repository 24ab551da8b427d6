/**
 * A password that never prints itself.
 *
 * `String(secret)`, `JSON.stringify(secret)` and `util.inspect(secret)` (so `console.log`) all show
 * `******`; only an explicit `reveal()` returns the value. Wrapping the value once, where the config is
 * parsed, is what keeps passwords out of logs, errors and process titles everywhere downstream.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plain value, for the one place that needs it: the driver's connection options. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return "******";
  }

  toJSON(): string {
    return "******";
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "Secret(******)";
  }
}
