import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  type ClusterConfigInput,
  findIsland,
  parseClusterConfig,
  serializeClusterConfig,
} from "./cluster-config.js";
import { InvalidConfigError } from "./errors.js";

const PASSWORD = "hunter2-s3cret";

const valid = {
  islands: [
    {
      island: 1,
      nodes: [
        { dsn: `postgres://alice:${encodeURIComponent(`${PASSWORD}@/`)}@db1.example:6432/app` },
        {
          host: "db1-replica",
          user: "alice",
          password: PASSWORD,
          database: "app",
          name: "replica",
        },
      ],
    },
    { island: 2, weight: 2, draining: true, nodes: [{ user: "bob", database: "app" }] },
  ],
  globalIsland: 2,
  idEnvironment: 3,
} satisfies ClusterConfigInput;

function configError(input: unknown): InvalidConfigError {
  try {
    parseClusterConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigError);
    return e as InvalidConfigError;
  }
  throw new Error("the config was accepted");
}

function expectNoPassword(value: unknown): void {
  for (const text of [String(value), JSON.stringify(value), inspect(value, { depth: 10 })]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
  }
}

const oneNode = (node: unknown) => ({ islands: [{ island: 1, nodes: [node] }] });

describe("parseClusterConfig", () => {
  it("splits DSNs, fills defaults and wraps passwords", () => {
    const config = parseClusterConfig(valid);
    const [dsnNode, fieldsNode] = config.islands[0]?.nodes ?? [];
    expect(dsnNode).toMatchObject({
      host: "db1.example",
      port: 6432,
      user: "alice",
      database: "app",
    });
    expect(dsnNode?.name).toBe("db1.example:6432");
    expect(dsnNode?.password?.reveal()).toBe(`${PASSWORD}@/`);
    expect(fieldsNode).toMatchObject({ host: "db1-replica", port: 5432, name: "replica" });
    expect(fieldsNode?.password?.reveal()).toBe(PASSWORD);
    expect(findIsland(config, 2)).toMatchObject({ weight: 2, draining: true });
    expect(findIsland(config, 2)?.nodes[0]).toMatchObject({
      host: "127.0.0.1",
      port: 5432,
      password: undefined,
    });
    expect(config).toMatchObject({ globalIsland: 2, idEnvironment: 3 });
  });

  it("defaults the global island to the first island and the environment to 1", () => {
    const config = parseClusterConfig({
      islands: [{ island: 5, nodes: [{ user: "u", database: "d" }] }],
    });
    expect(config).toMatchObject({ globalIsland: 5, idEnvironment: 1 });
    expect(config.islands[0]).toMatchObject({ weight: 1, draining: false });
  });

  it.each([
    ["no islands", { islands: [] }, "islands"],
    ["islands missing", {}, "islands"],
    ["no nodes", { islands: [{ island: 1, nodes: [] }] }, "islands[0].nodes"],
    ["nodes missing", { islands: [{ island: 1 }] }, "islands[0].nodes"],
    [
      "a port too big",
      oneNode({ user: "u", database: "d", port: 70000 }),
      "islands[0].nodes[0].port",
    ],
    ["a port of 0", oneNode({ user: "u", database: "d", port: 0 }), "islands[0].nodes[0].port"],
    [
      "a duplicate island number",
      {
        islands: [
          { island: 1, nodes: [{ user: "u", database: "d" }] },
          { island: 1, nodes: [{ user: "u", database: "d" }] },
        ],
      },
      "islands[1].island",
    ],
    [
      "a global island not in islands",
      { ...oneNode({ user: "u", database: "d" }), globalIsland: 2 },
      "globalIsland",
    ],
    ["an unknown top-level key", { ...oneNode({ user: "u", database: "d" }), shards: 4 }, ""],
    [
      "an environment of 9",
      { ...oneNode({ user: "u", database: "d" }), idEnvironment: 9 },
      "idEnvironment",
    ],
    [
      "an island number of 0",
      { islands: [{ island: 0, nodes: [{ user: "u", database: "d" }] }] },
      "islands[0].island",
    ],
    ["a non-object", "postgres://x", ""],
  ])("rejects %s, naming the field", (_name, input, path) => {
    const error = configError(input);
    expect(error.issues.map((i) => i.path)).toContain(path);
    expect(error.message).toContain(path === "" ? "(root)" : `${path}:`);
    expect(error.toJSON()).toMatchObject({ code: "INVALID_CONFIG" });
  });

  it("names an unknown key", () => {
    expect(configError({ ...oneNode({ user: "u", database: "d" }), shards: 4 }).message).toContain(
      '"shards"',
    );
  });

  it.each([
    ["a DSN without a database", `postgres://u:${PASSWORD}@h/`],
    ["a DSN of another scheme", `mysql://u:${PASSWORD}@h/db`],
    ["a DSN with an invalid port", `postgres://u:${PASSWORD}@h:99999/db`],
    ["a DSN that is not a URL", `u:${PASSWORD}@h db`],
  ])("keeps the password out of the error for %s", (_name, dsn) => {
    const error = configError(oneNode({ dsn }));
    expect(error.issues[0]?.path).toBe("islands[0].nodes[0].dsn");
    expectNoPassword(error);
    expectNoPassword(error.message);
    expectNoPassword(error.toJSON());
  });

  it("keeps the password out of errors about other fields of the same node", () => {
    expectNoPassword(configError(oneNode({ dsn: `postgres://u:${PASSWORD}@h/db`, extra: 1 })));
    expectNoPassword(
      configError(oneNode({ user: "u", database: "d", password: PASSWORD, port: "x" })),
    );
    expectNoPassword(configError(oneNode({ user: "u", database: "", password: PASSWORD })));
  });

  it("never prints a password from the parsed config", () => {
    const config = parseClusterConfig(valid);
    expectNoPassword(config);
    expectNoPassword(config.islands[0]?.nodes[0]);
    expectNoPassword(config.islands[0]?.nodes[0]?.password);
    expect(`${config.islands[0]?.nodes[1]?.password}`).toBe("******");
  });
});

describe("serializeClusterConfig", () => {
  it("redacts passwords by default", () => {
    const out = serializeClusterConfig(parseClusterConfig(valid));
    expectNoPassword(out);
    expect(out.islands[0]?.nodes[0]).toMatchObject({ password: "******", host: "db1.example" });
    expect(out.islands[1]?.nodes[0]).not.toHaveProperty("password");
  });

  it("reveals passwords only when asked, in a form that parses back to the same config", () => {
    const config = parseClusterConfig(valid);
    const out = serializeClusterConfig(config, { revealPasswords: true });
    expect(out.islands[0]?.nodes[1]).toMatchObject({ password: PASSWORD });
    const again = parseClusterConfig(out);
    expect(again).toEqual(config);
    expect(again.islands[0]?.nodes[0]?.password?.reveal()).toBe(`${PASSWORD}@/`);
  });
});
