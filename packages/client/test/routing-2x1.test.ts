import { formatId, InvalidIdError } from "@archipelago/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientFixture, startClientFixture } from "../../../test/helpers/cluster-fixture.js";
import {
  CrossMicroshardError,
  MicroshardNotFoundError,
  OutcomeUnknownError,
  type QueryEvent,
} from "../src/index.js";

let fx: ClientFixture;

beforeAll(async () => {
  fx = await startClientFixture({ islands: 2, replicasPerIsland: 1, microshards: 8 });
  for (let m = 1; m <= 8; m++) {
    await fx.cluster
      .shard(m)
      .query(
        `INSERT INTO sh${String(m).padStart(4, "0")}.items (n) SELECT g FROM generate_series($1::int, $1::int + 99) g`,
        [m * 1000],
        { write: true },
      );
  }
  await fx.local.waitForReplication();
  await fx.cluster.rediscover();
});

afterAll(async () => {
  await fx?.stop();
});

describe("routing", () => {
  it("sends a microshard's statements to the island that holds it", async () => {
    for (let m = 1; m <= 8; m++) {
      const [row] = await fx.cluster
        .shard(m)
        .query<{ c: string }>(`SELECT count(*) AS c FROM sh${String(m).padStart(4, "0")}.items`);
      expect(row?.c).toBe("100");
      expect(fx.queries.at(-1)?.island).toBe(fx.placement.get(m));
    }
  });

  it("routes by the microshard inside an ID, and reads shard 0 through the same API", async () => {
    const [item] = await fx.cluster
      .shard(5)
      .query<{ id: string }>("SELECT id::text FROM sh0005.items ORDER BY n LIMIT 1");
    const id = item?.id as string;
    expect(fx.cluster.microshardOf(id)).toBe(5);
    const [again] = await fx.cluster
      .shardOf(id)
      .query("SELECT n FROM sh0005.items WHERE id = $1", [id]);
    expect(again).toEqual({ n: 5000 });
    await fx.cluster
      .globalShard()
      .query("INSERT INTO sh0000.settings VALUES ('theme', 'dark')", [], { write: true });
    const settings = await fx.cluster
      .globalShard()
      .query("SELECT * FROM sh0000.settings", [], { role: "master" });
    expect(settings).toEqual([{ key: "theme", value: "dark" }]);
  });

  it("rejects malformed IDs before any SQL is sent", () => {
    const before = fx.queries.length;
    for (const bad of [
      "",
      "abc",
      "1e5",
      " 1000100000000000001",
      "-1000100000000000001",
      "10001000000000000010",
    ]) {
      expect(() => fx.cluster.shardOf(bad)).toThrow(InvalidIdError);
    }
    expect(fx.queries.length).toBe(before);
  });

  it("fails fast on a microshard that exists nowhere, after one rediscovery", async () => {
    const rounds = fx.cluster.discoveryRounds;
    const started = Date.now();
    const id = formatId({ environment: 1, microshard: 4242, sequence: 1n });
    await expect(fx.cluster.shardOf(id).query("SELECT 1")).rejects.toBeInstanceOf(
      MicroshardNotFoundError,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fx.cluster.discoveryRounds - rounds).toBe(1);
  });

  it("does not retry a genuine missing table forever", async () => {
    const started = Date.now();
    await expect(
      fx.cluster.shard(2).query("SELECT * FROM sh0002.no_such_table"),
    ).rejects.toMatchObject({
      code: "42P01",
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("refuses a statement that names another microshard", async () => {
    await expect(fx.cluster.shard(2).query("SELECT * FROM sh0003.items")).rejects.toBeInstanceOf(
      CrossMicroshardError,
    );
  });
});

describe("batching", () => {
  it("answers 100 concurrent loads over 8 microshards on 2 islands with exactly 2 statements", async () => {
    const ids = new Map<number, string[]>();
    for (let m = 1; m <= 8; m++) {
      const rows = await fx.cluster
        .shard(m)
        .query<{ id: string }>(
          `SELECT id::text FROM sh${String(m).padStart(4, "0")}.items ORDER BY n`,
        );
      ids.set(
        m,
        rows.map((r) => r.id),
      );
    }
    const wanted = Array.from(
      { length: 100 },
      (_, i) => (ids.get((i % 8) + 1) as string[])[Math.floor(i / 8)] as string,
    );
    const before = fx.queries.length;
    const rows = await Promise.all(
      wanted.map((id) => fx.cluster.shardOf(id).load<{ id: string; n: number }>("items", "id", id)),
    );
    const events: QueryEvent[] = fx.queries.slice(before);
    expect(events).toHaveLength(2);
    expect(new Set(events.map((e) => e.island))).toEqual(new Set([1, 2]));
    expect(events.reduce((n, e) => n + e.batchSize, 0)).toBe(100);
    expect(rows.map((r) => r?.id)).toEqual(wanted);
    // A load of an ID that has no row resolves to undefined, next to ones that do.
    const missing = formatId({ environment: 1, microshard: 1, sequence: 99_999n });
    const [a, b] = await Promise.all([
      fx.cluster.shardOf(missing).load("items", "id", missing),
      fx.cluster.shardOf(wanted[0]).load("items", "id", wanted[0]),
    ]);
    expect(a).toBeUndefined();
    expect(b).toMatchObject({ id: wanted[0] });
  });
});

describe("batching by a column other than the ID", () => {
  it("keeps equal values of different microshards apart, on one island and across two", async () => {
    const on = (island: number) =>
      [...fx.placement].filter(([m, i]) => m !== 0 && i === island).map(([m]) => m);
    const [a, b] = on(1) as [number, number];
    const [c] = on(2) as [number];
    const n = 50_000; // outside every other test's range of n
    for (const m of [a, b, c]) {
      await fx.cluster
        .shard(m)
        .query(
          `INSERT INTO sh${String(m).padStart(4, "0")}.items (n, note) VALUES ($1, $2)`,
          [n, `from ${m}`],
          { write: true },
        );
    }
    const before = fx.queries.length;
    const rows = await Promise.all([
      fx.cluster.shard(a).load<{ note: string }>("items", "n", n, { role: "master" }),
      fx.cluster.shard(b).load<{ note: string }>("items", "n", String(n), { role: "master" }),
      fx.cluster.shard(c).load<{ note: string }>("items", "n", n, { role: "master" }),
      fx.cluster.shard(b).load<{ note: string }>("items", "n", 50_001, { role: "master" }),
      fx.cluster.shard(a).load<{ note: string }>("items", "n", n, { role: "master" }),
    ]);
    expect(rows.map((r) => r?.note)).toEqual([
      `from ${a}`,
      `from ${b}`,
      `from ${c}`,
      undefined,
      `from ${a}`,
    ]);
    // The marker column that tells the microshards apart is not part of the rows handed out.
    expect(Object.keys(rows[0] as object).sort()).toEqual(["id", "n", "note"]);
    expect(fx.queries.length - before).toBe(2);
  });
});

describe("transactions", () => {
  it("commits and rolls back inside one microshard", async () => {
    const shard = fx.cluster.shard(4);
    await shard.transaction(async (tx) => {
      await tx.query("INSERT INTO sh0004.items (n) VALUES (90001)");
      await tx.query("INSERT INTO sh0004.items (n) VALUES (90002)");
    });
    await expect(
      shard.transaction(async (tx) => {
        await tx.query("INSERT INTO sh0004.items (n) VALUES (90003)");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await expect(
      shard.transaction(async (tx) => {
        await tx.query("INSERT INTO sh0004.items (n) VALUES (90004)");
        await tx.query("INSERT INTO sh0004.items (n) VALUES (90001)"); // unique violation
      }),
    ).rejects.toMatchObject({ code: "23505" });
    const rows = await shard.query<{ n: number }>(
      "SELECT n FROM sh0004.items WHERE n > 90000 ORDER BY n",
      [],
      { role: "master" },
    );
    expect(rows.map((r) => r.n)).toEqual([90001, 90002]);
  });

  it("cannot touch another microshard", async () => {
    await expect(
      fx.cluster.shard(4).transaction((tx) => tx.query("UPDATE sh0005.items SET note = 'x'")),
    ).rejects.toBeInstanceOf(CrossMicroshardError);
  });
});

describe("outcome unknown", () => {
  it("surfaces a non-idempotent write whose connection died mid-statement", async () => {
    const shard = fx.cluster.shard(6);
    const island = fx.placement.get(6) as number;
    const master = fx.local.master(island);
    const write = shard
      .query("INSERT INTO sh0006.items (n) SELECT 77777 FROM pg_sleep(2)", [], { write: true })
      .catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 500));
    await master.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO sh0006.items%'",
    );
    expect(await write).toBeInstanceOf(OutcomeUnknownError);
  });
});
