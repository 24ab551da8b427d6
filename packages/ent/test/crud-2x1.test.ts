import { InvalidIdError } from "@archipelago/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  allowAll,
  defineEnt,
  EntNotFoundError,
  EntNotReadableError,
  EntNotWritableError,
  EntQueryError,
  EntValidationError,
  Viewer,
} from "../src/index.js";
import { knownMicroshards } from "../src/internal/known-microshards.js";
import { placeByKey } from "../src/random-placement.js";
import { type EntFixture, startEntFixture } from "./helpers/ent-fixture.js";
import { Comment, fired, Plan, Topic, User, Workspace } from "./helpers/test-entities.js";

/** The plans table again, with a 300 ms staleness bound. */
const ShortCachedPlan = defineEnt({
  name: "ShortCachedPlan",
  table: "plans",
  fields: { code: z.string(), name: z.string() },
  shard: "global",
  cache: { maxAgeMs: 300 },
  privacy: { read: [allowAll] },
});

let fx: EntFixture;
let omni: Viewer;

beforeAll(async () => {
  fx = await startEntFixture({ islands: 2, replicasPerIsland: 1, microshards: 8 });
  omni = Viewer.omni(fx.cluster);
});

afterAll(async () => {
  await fx?.stop();
});

const microshardOf = (id: string) => Number(id.slice(1, 5));

/** A workspace with one member; returns the member's viewer. */
async function tenant(slug: string) {
  // Written in the session the member's viewer will read with (read-after-write through replicas).
  const session = fx.cluster.session();
  const system = Viewer.omni(fx.cluster, { session });
  const workspaceId = await Workspace.insert(system, {
    slug,
    name: slug.toUpperCase(),
    planId: null,
  });
  const userId = await User.insert(system, {
    email: `${slug}@example.com`,
    name: slug,
    workspaceId,
  });
  return { workspaceId, userId, vc: Viewer.of(fx.cluster, userId, { session }) };
}

describe("global entities (shard 0)", () => {
  it("insert, load, loadBy and upsert with the same API; bigints parsed", async () => {
    const id = await Plan.insert(omni, {
      code: "pro",
      name: "Pro",
      maxMembers: 50,
      priceCents: 9_007_199_254_740_993n,
    });
    expect(microshardOf(id)).toBe(0);
    const plan = await Plan.load(omni, id);
    expect(plan).toEqual({
      id,
      code: "pro",
      name: "Pro",
      maxMembers: 50,
      priceCents: 9_007_199_254_740_993n,
    });
    expect(await Plan.loadBy(omni, { code: "pro" })).toEqual(plan);
    const again = await Plan.upsert(omni, {
      code: "pro",
      name: "Pro 2",
      maxMembers: 60,
      priceCents: 1n,
    });
    expect(again).toBe(id);
    expect((await Plan.load(omni, id)).name).toBe("Pro 2");
    const fresh = await Plan.upsert(omni, {
      code: "free",
      name: "Free",
      maxMembers: 3,
      priceCents: 0n,
    });
    expect(fresh).not.toBe(id);
    expect(await Plan.select(omni, { where: {}, order: ["code"], limit: 10 })).toHaveLength(2);
  });

  it("the process cache serves loads within its staleness bound and drops on own writes", async () => {
    const id = await Plan.insert(omni, {
      code: "team",
      name: "Team",
      maxMembers: 10,
      priceCents: 5n,
    });
    // A viewer without its own cache, so only the global cache can answer.
    const vc = Viewer.omni(fx.cluster, { session: omni.session, cacheMax: 0 });
    expect((await Plan.load(vc, id)).name).toBe("Team");
    // Another process changes the row behind our back: the cached row is served.
    await fx.local
      .master(fx.cluster.config.globalIsland)
      .query("UPDATE sh0000.plans SET name = 'Changed elsewhere' WHERE id = $1", [id]);
    expect((await Plan.load(vc, id)).name).toBe("Team");
    // This process's own write clears the cache.
    await Plan.update(vc, id, { maxMembers: 11 });
    expect(await Plan.load(vc, id)).toMatchObject({ name: "Changed elsewhere", maxMembers: 11 });
  });

  it("other processes' writes show once the staleness bound has passed", async () => {
    const id = await Plan.insert(omni, {
      code: "short",
      name: "Short",
      maxMembers: 1,
      priceCents: 1n,
    });
    const vc = Viewer.omni(fx.cluster, { session: omni.session, cacheMax: 0 });
    expect((await ShortCachedPlan.load(vc, id)).name).toBe("Short");
    await fx.local
      .master(fx.cluster.config.globalIsland)
      .query("UPDATE sh0000.plans SET name = 'Renamed' WHERE id = $1", [id]);
    expect((await ShortCachedPlan.load(vc, id)).name).toBe("Short");
    await fx.local.waitForReplication(); // so that only the cache can be stale, not a replica
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await ShortCachedPlan.load(vc, id)).name).toBe("Renamed");
  });

  it("count, exists, iterate, update and delete work on shard 0 without pinning", async () => {
    const ids = await Promise.all(
      ["g1", "g2", "g3"].map((code) =>
        Plan.insert(omni, { code, name: code, maxMembers: 7, priceCents: 0n }),
      ),
    );
    expect(await Plan.count(omni, { maxMembers: 7 })).toBe(3);
    expect(await Plan.exists(omni, { code: "g2" })).toBe(true);
    const seen: string[] = [];
    for await (const chunk of Plan.iterate(omni, { where: { maxMembers: 7 }, chunk: 2 })) {
      seen.push(...chunk.map((p) => p.id));
    }
    expect(seen).toEqual([...ids].sort());
    expect(await Plan.update(omni, ids[0] as string, { maxMembers: 8 })).toBe(true);
    expect(await Plan.delete(omni, ids[1] as string)).toBe(true);
    expect(await Plan.count(omni, { maxMembers: 7 })).toBe(1);
    expect(await Plan.loadNullable(omni, ids[1] as string)).toBeNull();
  });

  it("a sharded ID is not a global entity's row", async () => {
    expect(await Plan.loadNullable(omni, "1000100000000000001")).toBeNull();
  });
});

describe("placement", () => {
  it("random entities go where their key says; children go beside their parent", async () => {
    const all = await knownMicroshards(fx.cluster);
    expect(all).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const { workspaceId, userId } = await tenant("placed");
    expect(microshardOf(workspaceId)).toBe(placeByKey(["placed"], all));
    expect(microshardOf(userId)).toBe(placeByKey(["placed@example.com"], all));
    const topicId = await Topic.insert(omni, {
      workspaceId,
      authorId: userId,
      title: "colocated",
      closedAt: null,
    });
    expect(microshardOf(topicId)).toBe(microshardOf(workspaceId));
    const commentId = await Comment.insert(omni, { topicId, authorId: userId, body: "hi" });
    expect(microshardOf(commentId)).toBe(microshardOf(topicId));
    // Defaults from the database, parsed once: JSON, boolean, integer, timestamp.
    const ws = await Workspace.load(omni, workspaceId);
    expect(ws).toMatchObject({ settings: {}, archived: false, version: 1, planId: null });
    expect(ws.createdAt).toBeInstanceOf(Date);
    const topic = await Topic.load(omni, topicId);
    expect(topic).toMatchObject({ status: "open", score: 0, views: 0n, closedAt: null });
    // JSON given on a batched insert is stored as JSON, not as a string or an array literal.
    const styled = await Workspace.insert(omni, {
      slug: "styled",
      name: "Styled",
      planId: null,
      settings: { theme: "dark", tags: ["a", "b"] },
    });
    expect((await Workspace.load(omni, styled)).settings).toEqual({
      theme: "dark",
      tags: ["a", "b"],
    });
    await Workspace.update(omni, styled, { settings: { theme: "light" } });
    expect((await Workspace.load(omni, styled)).settings).toEqual({ theme: "light" });
  });

  it("racing inserts of one unique key produce one row", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        Workspace.insertIfNotExists(omni, { slug: "race", name: "Race", planId: null }),
      ),
    );
    const ids = results.map((r) => (r.status === "fulfilled" ? r.value : "error"));
    expect(ids.filter((id) => id !== null)).toHaveLength(1);
    const plain = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        User.insert(omni, {
          email: "race@x.io",
          name: "R",
          workspaceId: ids.find((i) => i) as string,
        }),
      ),
    );
    expect(plain.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      plain
        .filter((r): r is PromiseRejectedResult => r.status === "rejected")
        .every((r) => (r.reason as { code?: string }).code === "23505"),
    ).toBe(true);
    const rows = await Workspace.selectAcross(omni, { where: { slug: "race" }, limit: 10 });
    expect(rows).toHaveLength(1);
    expect((await Workspace.loadBy(omni, { slug: "race" }))?.id).toBe(rows[0]?.id);
  });
});

describe("CRUD on sharded entities", () => {
  it("load, loadNullable, update with optimistic locking, delete", async () => {
    const { workspaceId, userId, vc } = await tenant("crud");
    const id = await Topic.insert(vc, {
      workspaceId,
      authorId: userId,
      title: "first",
      closedAt: null,
    });
    expect((await Topic.load(vc, id)).title).toBe("first");
    expect(await Topic.update(vc, id, { score: 5 }, { expect: { score: 0 } })).toBe(true);
    // A concurrent writer already moved it on: the expected value no longer matches.
    expect(await Topic.update(vc, id, { score: 6 }, { expect: { score: 0 } })).toBe(false);
    expect((await Topic.load(vc, id)).score).toBe(5);
    expect(await Topic.update(vc, id, { score: 7 }, { expect: { score: { gte: 5 } } })).toBe(true);
    expect(await Topic.delete(vc, id)).toBe(true);
    expect(await Topic.delete(vc, id)).toBe(false);
    expect(await Topic.loadNullable(vc, id)).toBeNull();
    await expect(Topic.load(vc, id)).rejects.toBeInstanceOf(EntNotFoundError);
    expect(await Topic.update(vc, id, { score: 1 })).toBe(false);
  });

  it("select with operators, order and limit; count; exists; iterate with a cursor", async () => {
    const { workspaceId, userId, vc } = await tenant("query");
    for (let i = 0; i < 25; i++) {
      await Topic.insert(vc, {
        workspaceId,
        authorId: userId,
        title: `t${String(i).padStart(2, "0")}`,
        closedAt: i % 5 === 0 ? new Date(Date.UTC(2026, 0, i + 1)) : null,
      });
    }
    const ids = (await Topic.select(vc, { where: { workspaceId }, limit: 100 })).map((t) => t.id);
    for (const [i, id] of ids.entries()) await Topic.update(vc, id, { score: i });
    const select = (where: Parameters<typeof Topic.select>[1]["where"], limit = 100) =>
      Topic.select(vc, { where: { workspaceId, ...where }, order: ["title"], limit }).then((rows) =>
        rows.map((r) => r.title),
      );
    expect(await select({ score: { gte: 20 } })).toEqual(["t20", "t21", "t22", "t23", "t24"]);
    expect(await select({ score: { gt: 1, lte: 3 } })).toEqual(["t02", "t03"]);
    expect(await select({ score: { lt: 2 } })).toEqual(["t00", "t01"]);
    expect(await select({ title: { in: ["t03", "t07", "nope"] } })).toEqual(["t03", "t07"]);
    expect(await select({ title: { in: [] } })).toEqual([]);
    expect(await select({ closedAt: { isNull: false } })).toEqual([
      "t00",
      "t05",
      "t10",
      "t15",
      "t20",
    ]);
    expect(await select({ closedAt: null, score: { ne: 1 } }, 3)).toEqual(["t02", "t03", "t04"]);
    expect(await select({ closedAt: { gt: new Date(Date.UTC(2026, 0, 12)) } })).toEqual([
      "t15",
      "t20",
    ]);
    expect(await select({ $or: [{ title: "t01" }, { score: 24 }] })).toEqual(["t01", "t24"]);
    expect(await select({ $not: { score: { lt: 23 } } })).toEqual(["t23", "t24"]);
    expect(await select({ $and: [{ score: { gt: 10 } }, { score: { lt: 13 } }] })).toEqual([
      "t11",
      "t12",
    ]);
    const desc = await Topic.select(vc, {
      where: { workspaceId },
      order: [["score", "desc"]],
      limit: 2,
    });
    expect(desc.map((t) => t.score)).toEqual([24, 23]);

    expect(await Topic.count(vc, { workspaceId })).toBe(25);
    expect(await Topic.count(omni, { workspaceId, closedAt: { isNull: false } })).toBe(5);
    expect(await Topic.exists(vc, { workspaceId, title: "t09" })).toBe(true);
    expect(await Topic.exists(vc, { workspaceId, title: "none" })).toBe(false);

    const chunks: string[][] = [];
    for await (const chunk of Topic.iterate(vc, { where: { workspaceId }, chunk: 10 })) {
      chunks.push(chunk.map((t) => t.id));
    }
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual([...ids].sort());
    // Resume from a cursor: the last ID of the first chunk.
    const resumed: string[] = [];
    for await (const chunk of Topic.iterate(vc, {
      where: { workspaceId },
      chunk: 10,
      after: chunks[0]?.at(-1) as string,
    })) {
      resumed.push(...chunk.map((t) => t.id));
    }
    expect(resumed).toEqual(chunks.slice(1).flat());
  });

  it("a select that pins no microshard is refused; selectAcross merges a global order", async () => {
    await expect(Topic.select(omni, { where: { title: "t01" }, limit: 5 })).rejects.toBeInstanceOf(
      EntQueryError,
    );
    // Workspaces live in many microshards: the first 5 slugs over all of them, merged in order.
    const across = await Workspace.selectAcross(omni, { where: {}, order: ["slug"], limit: 5 });
    const everything: string[] = [];
    for await (const chunk of Workspace.iterate(omni, { where: {}, across: true })) {
      everything.push(...chunk.map((w) => w.slug));
    }
    expect(new Set(across.map((w) => microshardOf(w.id))).size).toBeGreaterThan(1);
    expect(across.map((w) => w.slug)).toEqual(
      [...everything].sort((a, b) => (a < b ? -1 : 1)).slice(0, 5),
    );
    const some = await Workspace.selectAcross(omni, { where: {}, limit: 100, microshards: [1, 2] });
    expect(some.every((w) => [1, 2].includes(microshardOf(w.id)))).toBe(true);
  });

  it("bad input gets a typed error and changes nothing", async () => {
    await expect(
      User.insert(omni, { email: "not-an-email", name: "x", workspaceId: "1000100000000000001" }),
    ).rejects.toBeInstanceOf(EntValidationError);
    await expect(
      // @ts-expect-error an unknown field, as a JavaScript caller might send
      Workspace.insert(omni, { slug: "ok", name: "x", planId: null, color: "red" }),
    ).rejects.toBeInstanceOf(EntValidationError);
    expect(await Workspace.loadBy(omni, { slug: "ok" })).toBeNull();
    await expect(Topic.load(omni, "12345")).rejects.toBeInstanceOf(InvalidIdError);
    await expect(
      Topic.select(omni, { where: { workspaceId: "x" }, limit: 1 }),
    ).rejects.toBeInstanceOf(InvalidIdError);
    await expect(
      // @ts-expect-error a wrong value type, as a JavaScript caller might send
      Topic.select(omni, { where: { workspaceId: "1000100000000000001", score: "1" }, limit: 1 }),
    ).rejects.toBeInstanceOf(EntQueryError);
    await expect(
      Topic.select(omni, { where: { workspaceId: "1000100000000000001" }, limit: 0 }),
    ).rejects.toBeInstanceOf(EntQueryError);
    // @ts-expect-error not a unique key
    await expect(Topic.loadBy(omni, { title: "x" })).rejects.toBeInstanceOf(EntQueryError);
    const { workspaceId, userId } = await tenant("bad-input");
    const topicId = await Topic.insert(omni, {
      workspaceId,
      authorId: userId,
      title: "t",
      closedAt: null,
    });
    // The colocation field decides the microshard: it cannot be changed.
    await expect(
      // @ts-expect-error as a JavaScript caller might send
      Topic.update(omni, topicId, { workspaceId: "1000100000000000001" }),
    ).rejects.toBeInstanceOf(EntValidationError);
    // Which of insert or update ran is known too late for triggers: refused, nothing written.
    await expect(
      Topic.upsert(omni, { workspaceId, authorId: userId, title: "t", closedAt: null }),
    ).rejects.toBeInstanceOf(EntQueryError);
    expect(await Topic.count(omni, { workspaceId })).toBe(1);
  });
});

describe("privacy", () => {
  it("read rules allow members, deny others without leaking the row", async () => {
    const a = await tenant("tenant-a");
    const b = await tenant("tenant-b");
    const secret = await Topic.insert(a.vc, {
      workspaceId: a.workspaceId,
      authorId: a.userId,
      title: "secret plans",
      closedAt: null,
    });
    expect((await Topic.load(a.vc, secret)).title).toBe("secret plans");
    // Tenant b's viewer has its own session: let replicas catch up so that it meets the row.
    await fx.local.waitForReplication();
    const denied = await Topic.load(b.vc, secret).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(EntNotReadableError);
    expect(JSON.stringify(denied)).not.toContain("secret");
    expect((denied as Error).message).not.toContain("secret");
    // A select of the other tenant's workspace returns nothing rather than failing.
    expect(await Topic.select(b.vc, { where: { workspaceId: a.workspaceId }, limit: 10 })).toEqual(
      [],
    );
    expect(await Topic.count(b.vc, { workspaceId: a.workspaceId })).toBe(0);
    expect(await Topic.exists(b.vc, { workspaceId: a.workspaceId })).toBe(false);
    await expect(Topic.load(Viewer.guest(fx.cluster), secret)).rejects.toBeInstanceOf(
      EntNotReadableError,
    );
    // Deny rules short-circuit before allow rules.
    await Workspace.update(omni, a.workspaceId, { archived: true });
    await expect(Workspace.load(a.vc, a.workspaceId)).rejects.toMatchObject({
      reason: "denied by archived",
    });
  });

  it("write rules must all pass; a refused write changes nothing", async () => {
    const a = await tenant("writer-a");
    const other = await User.insert(omni, {
      email: "colleague@writer-a.io",
      name: "Colleague",
      workspaceId: a.workspaceId,
    });
    const colleague = Viewer.of(fx.cluster, other);
    const id = await Topic.insert(a.vc, {
      workspaceId: a.workspaceId,
      authorId: a.userId,
      title: "mine",
      closedAt: null,
    });
    // A member, but not the author.
    await expect(Topic.update(colleague, id, { title: "theirs" })).rejects.toBeInstanceOf(
      EntNotWritableError,
    );
    await expect(Topic.delete(colleague, id)).rejects.toBeInstanceOf(EntNotWritableError);
    // Not a member: cannot insert into the workspace even as "author".
    const b = await tenant("writer-b");
    await expect(
      Topic.insert(b.vc, {
        workspaceId: a.workspaceId,
        authorId: b.userId,
        title: "x",
        closedAt: null,
      }),
    ).rejects.toMatchObject({ code: "ENT_NOT_WRITABLE", reason: "refused by member" });
    expect((await Topic.load(a.vc, id)).title).toBe("mine");
    expect(await Topic.count(omni, { workspaceId: a.workspaceId })).toBe(1);
  });

  it("the per-viewer cache dedups loads and is dropped by the viewer's own writes", async () => {
    const a = await tenant("cache");
    const id = await Topic.insert(a.vc, {
      workspaceId: a.workspaceId,
      authorId: a.userId,
      title: "c",
      closedAt: null,
    });
    const vc = Viewer.of(fx.cluster, a.userId, { session: a.vc.session });
    await Topic.load(vc, id);
    const before = fx.queries.length;
    await Promise.all([Topic.load(vc, id), Topic.load(vc, id), Topic.loadNullable(vc, id)]);
    // Served from the viewer's cache, the privacy rule's member check included.
    expect(fx.queries.length).toBe(before);
    await fx.local
      .master(fx.placement.get(microshardOf(id)) as number)
      .query(
        `UPDATE sh${String(microshardOf(id)).padStart(4, "0")}.topics SET score = 42 WHERE id = $1`,
        [id],
      );
    expect((await Topic.load(vc, id)).score).toBe(0); // cached within the request
    await Topic.update(vc, id, { title: "c2" });
    expect(await Topic.load(vc, id)).toMatchObject({ title: "c2", score: 42 });
  });
});

describe("triggers", () => {
  it("fire in order with the changed fields; before triggers can patch the input", async () => {
    const { workspaceId, userId, vc } = await tenant("triggers");
    fired.length = 0;
    const id = await Topic.insert(vc, {
      workspaceId,
      authorId: userId,
      title: "!loud",
      closedAt: null,
    });
    expect((await Topic.load(vc, id)).title).toBe("loud");
    await Topic.update(vc, id, { status: "closed", title: "loud" });
    expect((await Topic.load(vc, id)).closedAt).toEqual(new Date("2026-01-01T00:00:00Z"));
    await Topic.delete(vc, id);
    expect(fired).toEqual([
      "beforeInsert:!loud",
      "beforeInsert2:loud",
      "afterInsert:loud",
      "beforeUpdate:status",
      "afterUpdate:status,closedAt",
      "beforeDelete:loud",
      "afterDelete:loud",
    ]);
  });
});

describe("inverses", () => {
  it("select by author visits only the microshards with the author's comments", async () => {
    const author = await tenant("inverse-author");
    const topics: string[] = [];
    for (let i = 0; topics.length < 3 && i < 40; i++) {
      const { workspaceId, userId } = await tenant(`inverse-${i}`);
      // Topics in three different microshards.
      if (topics.some((t) => microshardOf(t) === microshardOf(workspaceId))) continue;
      topics.push(
        await Topic.insert(omni, { workspaceId, authorId: userId, title: "x", closedAt: null }),
      );
    }
    expect(topics).toHaveLength(3);
    const written: string[] = [];
    for (const topicId of topics) {
      written.push(
        await Comment.insert(author.vc, { topicId, authorId: author.userId, body: "hello" }),
      );
    }
    const before = fx.queries.length;
    const found = await Comment.select(author.vc, {
      where: { authorId: author.userId },
      order: [["createdAt", "asc"]],
      limit: 10,
    });
    expect(found.map((c) => c.id).sort()).toEqual([...written].sort());
    const visited = new Set(fx.queries.slice(before).flatMap((q) => q.microshards));
    const expected = new Set([microshardOf(author.userId), ...topics.map(microshardOf)]);
    expect(visited).toEqual(expected);

    // A stale inverse (its comment deleted behind our back) is tolerated.
    const gone = written[0] as string;
    await fx.local
      .master(fx.placement.get(microshardOf(gone)) as number)
      .query(
        `DELETE FROM sh${String(microshardOf(gone)).padStart(4, "0")}.comments WHERE id = $1`,
        [gone],
      );
    const afterStale = await Comment.select(author.vc, {
      where: { authorId: author.userId },
      limit: 10,
    });
    expect(afterStale.map((c) => c.id).sort()).toEqual(written.slice(1).sort());
    expect(await Comment.delete(author.vc, written[1] as string)).toBe(true);
    expect(await Comment.count(author.vc, { authorId: author.userId })).toBe(1);
  });

  it("a failed insert removes the inverse it wrote first", async () => {
    const author = await tenant("inverse-fail");
    const { workspaceId, userId } = await tenant("inverse-fail-ws");
    const topicId = await Topic.insert(omni, {
      workspaceId,
      authorId: userId,
      title: "t",
      closedAt: null,
    });
    const inverseRows = async () => {
      const m = microshardOf(author.userId);
      return fx.local
        .master(fx.placement.get(m) as number)
        .query<{ id2: string }>(
          `SELECT id2::text FROM sh${String(m).padStart(4, "0")}.ent_inverses WHERE id1 = $1`,
          [author.userId],
        );
    };
    // The CHECK constraint refuses this body: the row is known not to exist.
    const error = await Comment.insert(author.vc, {
      topicId,
      authorId: author.userId,
      body: "forbidden",
    }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("23514");
    expect(await inverseRows()).toEqual([]);
    const ok = await Comment.insert(author.vc, { topicId, authorId: author.userId, body: "fine" });
    expect((await inverseRows()).map((r) => r.id2)).toEqual([ok]);
    expect(
      (await Comment.select(author.vc, { where: { authorId: author.userId }, limit: 5 })).map(
        (c) => c.id,
      ),
    ).toEqual([ok]);
  });
});

describe("inverses on update", () => {
  it("moving a comment to another author moves its inverse; a failed update leaves none behind", async () => {
    const a = await tenant("inverse-move-a");
    const b = await tenant("inverse-move-b");
    const { workspaceId, userId } = await tenant("inverse-move-ws");
    const topicId = await Topic.insert(omni, {
      workspaceId,
      authorId: userId,
      title: "t",
      closedAt: null,
    });
    const id = await Comment.insert(omni, { topicId, authorId: a.userId, body: "mine" });
    const byAuthor = async (authorId: string) =>
      (await Comment.select(omni, { where: { authorId }, limit: 10 })).map((c) => c.id);
    const inverses = async (authorId: string) => {
      const m = microshardOf(authorId);
      const rows = await fx.local
        .master(fx.placement.get(m) as number)
        .query<{ id2: string }>(
          `SELECT id2::text FROM sh${String(m).padStart(4, "0")}.ent_inverses WHERE id1 = $1`,
          [authorId],
        );
      return rows.map((r) => r.id2);
    };
    expect(await byAuthor(a.userId)).toEqual([id]);

    // Refused by the CHECK constraint: the new author's inverse written first is removed again.
    await expect(
      Comment.update(omni, id, { authorId: b.userId, body: "forbidden" }),
    ).rejects.toMatchObject({ code: "23514" });
    expect(await inverses(b.userId)).toEqual([]);
    expect(await inverses(a.userId)).toEqual([id]);

    expect(await Comment.update(omni, id, { authorId: b.userId })).toBe(true);
    expect(await byAuthor(b.userId)).toEqual([id]);
    expect(await byAuthor(a.userId)).toEqual([]);
    expect(await inverses(a.userId)).toEqual([]);
  });
});

describe("batching", () => {
  it("100 loads over 8 microshards on 2 islands are 2 statements", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      ids.push(await Workspace.insert(omni, { slug: `batch-${i}`, name: "b", planId: null }));
    }
    const microshards = new Set(ids.map(microshardOf));
    expect(microshards.size).toBe(8);
    const burst = Array.from({ length: 100 }, (_, i) => ids[i % ids.length] as string);
    const vc = Viewer.omni(fx.cluster, { session: omni.session, cacheMax: 0 });
    await fx.cluster.rediscover();
    const before = fx.queries.length;
    const rows = await Promise.all(burst.map((id) => Workspace.load(vc, id)));
    expect(rows.map((r) => r.id)).toEqual(burst);
    expect(fx.queries.length - before).toBe(2);
  });
});
