import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidSessionError } from "./client-errors.js";
import { SESSION_MAX_ENTRIES, Session } from "./session.js";

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("Session positions", () => {
  it("starts empty", () => {
    const s = new Session();
    expect(s.size).toBe(0);
    expect(s.requiredPosition(1, 42, 1)).toBeUndefined();
    expect(s.newestGeneration(42)).toBeUndefined();
  });

  it("keeps the highest position per island, microshard and generation", () => {
    const s = new Session();
    s.recordWrite(1, 42, 3, 100n);
    s.recordWrite(1, 42, 3, 90n);
    expect(s.requiredPosition(1, 42, 3)).toBe(100n);
    s.recordWrite(1, 42, 3, 150n);
    expect(s.requiredPosition(1, 42, 3)).toBe(150n);
    expect(s.size).toBe(1);
  });

  it("never applies a position to another island, microshard or generation", () => {
    const s = new Session();
    s.recordWrite(1, 42, 3, 100n);
    expect(s.requiredPosition(2, 42, 3)).toBeUndefined();
    expect(s.requiredPosition(1, 43, 3)).toBeUndefined();
    expect(s.requiredPosition(1, 42, 2)).toBeUndefined();
    expect(s.requiredPosition(1, 42, 4)).toBeUndefined();
  });

  it("drops a microshard's older generations when a newer one is recorded (after a move)", () => {
    const s = new Session();
    s.recordWrite(1, 42, 3, 100n);
    s.recordWrite(1, 7, 1, 5n);
    s.recordWrite(2, 42, 4, 20n);
    expect(s.requiredPosition(1, 42, 3)).toBeUndefined();
    expect(s.requiredPosition(2, 42, 4)).toBe(20n);
    expect(s.requiredPosition(1, 7, 1)).toBe(5n);
    expect(s.newestGeneration(42)).toBe(4);
    expect(s.size).toBe(2);
  });

  it("ignores a write acknowledged at an older generation than one recorded (it raced a move)", () => {
    const s = new Session();
    s.recordWrite(2, 42, 4, 20n);
    s.recordWrite(1, 42, 3, 999n);
    expect(s.requiredPosition(1, 42, 3)).toBeUndefined();
    expect(s.newestGeneration(42)).toBe(4);
    expect(s.size).toBe(1);
  });

  it("keeps at most SESSION_MAX_ENTRIES, dropping the oldest recorded", () => {
    const s = new Session();
    for (let m = 1; m <= SESSION_MAX_ENTRIES; m++) s.recordWrite(1, m, 1, BigInt(m));
    s.recordWrite(1, 1, 1, 1000n); // refreshed: now the newest recorded
    s.recordWrite(1, 9000, 1, 1n);
    expect(s.size).toBe(SESSION_MAX_ENTRIES);
    expect(s.requiredPosition(1, 1, 1)).toBe(1000n);
    expect(s.requiredPosition(1, 2, 1)).toBeUndefined();
    expect(s.requiredPosition(1, 3, 1)).toBe(3n);
    expect(s.requiredPosition(1, 9000, 1)).toBe(1n);
  });

  it.each([
    [-1, 1, 1, 1n],
    [1.5, 1, 1, 1n],
    [1, 10_000, 1, 1n],
    [1, -1, 1, 1n],
    [1, 1, 0, 1n],
    [1, 1, Number.NaN, 1n],
    [1, 1, 1, -1n],
    [1, 1, 1, 1n << 64n],
    [1, 1, 1, 5 as unknown as bigint],
  ])("rejects recordWrite(%s, %s, %s, %s)", (island, microshard, generation, lsn) => {
    const s = new Session();
    expect(() => s.recordWrite(island, microshard, generation, lsn)).toThrow(RangeError);
    expect(s.size).toBe(0);
  });
});

describe("Session serialization", () => {
  it("is base64url of a versioned JSON with LSNs as PostgreSQL prints them", () => {
    const s = new Session();
    s.recordWrite(1, 42, 3, (0x16n << 32n) | 0xb374d848n);
    const text = s.serialize();
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(text, "base64url").toString())).toEqual({
      v: 1,
      w: [[1, 42, 3, "16/B374D848"]],
    });
    expect(Session.deserialize(new Session().serialize()).size).toBe(0);
  });

  it("stays bounded: a full session of the widest entries is under 12 KB", () => {
    const s = new Session();
    for (let m = 0; m < 1000; m++) s.recordWrite(99, 9000 + m, 999, (1n << 64n) - 1n);
    expect(s.size).toBe(SESSION_MAX_ENTRIES);
    expect(s.serialize().length).toBeLessThan(12_000);
  });

  it("is small for a typical viewer: a few writes fit a cookie easily", () => {
    const s = new Session();
    for (let m = 1; m <= 10; m++) s.recordWrite(m % 3, 1000 + m, 2, (0x16n << 32n) | 0xb374d848n);
    expect(s.serialize().length).toBeLessThan(400);
  });

  const write = fc.tuple(
    fc.integer({ min: 0, max: 20 }),
    fc.integer({ min: 0, max: 30 }),
    fc.integer({ min: 1, max: 5 }),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  );

  it("round-trips: the same positions, the same order, the same text", () => {
    fc.assert(
      fc.property(fc.array(write, { maxLength: 400 }), (writes) => {
        const s = new Session();
        for (const [i, m, g, lsn] of writes) s.recordWrite(i, m, g, lsn);
        const text = s.serialize();
        const back = Session.deserialize(text);
        expect(back.serialize()).toBe(text);
        expect(back.size).toBe(s.size);
        for (const [i, m, g] of writes) {
          expect(back.requiredPosition(i, m, g)).toBe(s.requiredPosition(i, m, g));
          expect(back.newestGeneration(m)).toBe(s.newestGeneration(m));
        }
      }),
    );
  });

  it("answers like a model: max position of the newest generation per microshard", () => {
    fc.assert(
      fc.property(fc.array(write, { maxLength: 100 }), (writes) => {
        const s = new Session();
        for (const [i, m, g, lsn] of writes) s.recordWrite(i, m, g, lsn);
        const newest = new Map<number, number>();
        for (const [, m, g] of writes) newest.set(m, Math.max(g, newest.get(m) ?? 0));
        for (const [i, m, g] of writes) {
          expect(s.newestGeneration(m)).toBe(newest.get(m));
          if (g < (newest.get(m) ?? 0)) {
            expect(s.requiredPosition(i, m, g)).toBeUndefined();
            continue;
          }
          // Writes of the newest generation count from the first of them; earlier ones were dropped.
          const first = writes.findIndex(([, m2, g2]) => m2 === m && g2 === g);
          const max = writes
            .slice(first)
            .filter(([i2, m2, g2]) => i2 === i && m2 === m && g2 === g)
            .map(([, , , lsn]) => lsn)
            .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))[0];
          expect(s.requiredPosition(i, m, g)).toBe(max);
        }
      }),
    );
  });

  it.each([
    ["empty", ""],
    ["not base64url", "eyJ2IjoxLCJ3IjpbXX0="],
    ["spaces", "eyJ2 IjoxLCJ3IjpbXX0"],
    ["not JSON", Buffer.from("hello").toString("base64url")],
    ["JSON null", encode(null)],
    ["an array", encode([1, 42, 3, "0/1"])],
    ["another version", encode({ v: 2, w: [] })],
    ["no version", encode({ w: [] })],
    ["extra fields", encode({ v: 1, w: [], admin: true })],
    ["a bad LSN", encode({ v: 1, w: [[1, 42, 3, "16-B374D848"]] })],
    ["an LSN as number", encode({ v: 1, w: [[1, 42, 3, 100]] })],
    ["a long LSN string", encode({ v: 1, w: [[1, 42, 3, "0/0".padEnd(100, "0")]] })],
    ["generation 0", encode({ v: 1, w: [[1, 42, 0, "0/1"]] })],
    ["a fractional island", encode({ v: 1, w: [[1.5, 42, 1, "0/1"]] })],
    ["a negative island", encode({ v: 1, w: [[-1, 42, 1, "0/1"]] })],
    ["microshard 10000", encode({ v: 1, w: [[1, 10_000, 1, "0/1"]] })],
    ["a short entry", encode({ v: 1, w: [[1, 42, 1]] })],
    ["a long entry", encode({ v: 1, w: [[1, 42, 1, "0/1", 5]] })],
    ["an unsafe integer", encode({ v: 1, w: [[2 ** 60, 42, 1, "0/1"]] })],
    [
      "too many entries",
      encode({ v: 1, w: Array.from({ length: 257 }, (_, m) => [1, m, 1, "0/1"]) }),
    ],
    ["too long", "A".repeat(70_000)],
    ["a prototype pollution attempt", encode(JSON.parse('{"v":1,"w":[],"__proto__":{"x":1}}'))],
  ])("rejects %s with InvalidSessionError", (_name, text) => {
    expect(() => Session.deserialize(text)).toThrow(InvalidSessionError);
  });

  it("rejects non-strings and says why without echoing the input", () => {
    expect(() => Session.deserialize(undefined as unknown as string)).toThrow(InvalidSessionError);
    const secret = encode({ v: 1, w: [[1, 42, 3, "password=hunter2"]] });
    try {
      Session.deserialize(secret);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "INVALID_SESSION" });
      expect(JSON.stringify((e as InvalidSessionError).toJSON())).not.toContain("hunter2");
      expect((e as Error).message).not.toContain("hunter2");
    }
  });

  it("rejects every random string that is not a serialized session", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          const s = Session.deserialize(text);
          // The rare random text that is valid must be a well-formed session.
          expect(Session.deserialize(s.serialize()).serialize()).toBe(s.serialize());
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidSessionError);
        }
      }),
    );
  });
});
