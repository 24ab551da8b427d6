import { expect, it } from "vitest";
import { DEFAULT_HTTP_HOST, parseHttpAddress } from "./http-address.js";

it("takes a port alone on loopback, and a host when given", () => {
  expect(parseHttpAddress("8080")).toEqual({ host: DEFAULT_HTTP_HOST, port: 8080 });
  expect(parseHttpAddress(":8080")).toEqual({ host: "127.0.0.1", port: 8080 });
  expect(parseHttpAddress("0")).toEqual({ host: "127.0.0.1", port: 0 });
  expect(parseHttpAddress("0.0.0.0:9000")).toEqual({ host: "0.0.0.0", port: 9000 });
  expect(parseHttpAddress("manager.internal:9000")).toEqual({
    host: "manager.internal",
    port: 9000,
  });
  expect(parseHttpAddress("[::1]:9000")).toEqual({ host: "::1", port: 9000 });
});

it("refuses anything else", () => {
  for (const text of ["", "http", "65536", "host:", "a:b:1", "::1:80", "80 80", "-1", "1e3"]) {
    expect(parseHttpAddress(text), text).toBeUndefined();
  }
});
