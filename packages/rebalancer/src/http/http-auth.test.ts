import { expect, it } from "vitest";
import { BearerAuth } from "./http-auth.js";

const TOKEN = "s3cret-token-0123456789";

it("allows exactly the bearer token", () => {
  const auth = new BearerAuth(TOKEN);
  expect(auth.allows(`Bearer ${TOKEN}`)).toBe(true);
  expect(auth.allows(`bearer ${TOKEN}`)).toBe(true);
  for (const header of [
    undefined,
    "",
    TOKEN,
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Basic ${TOKEN}`,
    "Bearer ",
    `Bearer ${TOKEN} extra`,
  ]) {
    expect(auth.allows(header), String(header)).toBe(false);
  }
});

it("refuses a short token, without echoing it", () => {
  expect(() => new BearerAuth("short")).toThrow(/at least 16/);
  try {
    new BearerAuth("short-secret");
  } catch (error) {
    expect((error as Error).message).not.toContain("short-secret");
  }
});
