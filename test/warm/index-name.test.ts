// The warm index is named by a non-cryptographic hash (so the warm path never loads node:crypto).
// The name must stay stable across releases (a new name is only a one-time miss, but a miss on
// every aws CLI call until then), and match the pattern `logout --all` removes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hash128 } from "../../src/fsio/file-stamp";

test("hash128 is cyrb128: fixed vectors", () => {
  assert.equal(hash128(""), "027ae52ecfc796215593990d4b41437c");
  assert.equal(hash128("warm-index"), "40e25b7b405eea043a6e3f3f780a1acb");
  assert.equal(
    hash128(JSON.stringify(["warm-index", "dev", "/home/a/.aws/config", "/home/a/.aws/credentials"])),
    "2bebef83861979b7761a363cdbca826b",
  );
  assert.equal(hash128("é😀"), "c354ce6e7df39a25d38be6efd2e9d8b6");
});

test("hash128 gives 32 hex digits, distinct for near inputs", () => {
  const names = new Set<string>();
  for (let index = 0; index < 10_000; index++) {
    const name = hash128(
      JSON.stringify(["warm-index", `role-${index}`, "/h/.aws/config", "/h/.aws/credentials"]),
    );
    assert.match(name, /^[0-9a-f]{32}$/);
    names.add(name);
  }
  assert.equal(names.size, 10_000);
});
