import assert from "node:assert/strict";
import { test } from "node:test";
import { resolvePlan } from "../../src/config/plan";
import type { ProfileSet, Properties } from "../../src/config/types";
import { AppError } from "../../src/errors";
import { cacheableSteps } from "../../src/session/steps";

// How plan.ts reads awsmfa_keys: a keys leaf whose secret is in a store, not in the profile.

const SERIAL = "arn:aws:iam::111111111111:mfa/alice";

function set(profiles: Record<string, Properties>): ProfileSet {
  return { profiles, ssoSessions: {}, origins: {} };
}

test("awsmfa_keys = encrypted with awsmfa_access_key_id is a keys leaf with a store and no secret yet", () => {
  const plan = resolvePlan(
    set({
      alice: { awsmfa_keys: "encrypted", awsmfa_access_key_id: "AKIA1", mfa_serial: SERIAL },
      admin: { role_arn: "arn:aws:iam::222222222222:role/Admin", source_profile: "alice" },
    }),
    "admin",
  );
  assert.deepEqual(plan.leaf, {
    type: "keys",
    profile: "alice",
    accessKeyId: "AKIA1",
    secretAccessKey: "",
    store: "encrypted",
  });
  assert.equal(plan.mfa?.serial, SERIAL);
  assert.equal(plan.roles.length, 1);
});

test("the cache keys are the same wherever the secret is kept: moving keys keeps the sessions", () => {
  const inFile = resolvePlan(
    set({ alice: { aws_access_key_id: "AKIA1", aws_secret_access_key: "s", mfa_serial: SERIAL } }),
    "alice",
  );
  const inStore = resolvePlan(
    set({ alice: { awsmfa_keys: "keyring", awsmfa_access_key_id: "AKIA1", mfa_serial: SERIAL } }),
    "alice",
  );
  assert.deepEqual(cacheableSteps(inStore), cacheableSteps(inFile));
});

test("awsmfa_keys = file (or absent) reads the credentials file as before; the store wins over leftovers", () => {
  const file = resolvePlan(
    set({ alice: { awsmfa_keys: "file", aws_access_key_id: "AKIA1", aws_secret_access_key: "s" } }),
    "alice",
  );
  assert.deepEqual(file.leaf, { type: "keys", profile: "alice", accessKeyId: "AKIA1", secretAccessKey: "s" });
  const both = resolvePlan(
    set({
      alice: {
        awsmfa_keys: "Keyring",
        awsmfa_access_key_id: "AKIA2",
        aws_access_key_id: "AKIA1",
        aws_secret_access_key: "s",
      },
    }),
    "alice",
  );
  assert.equal(both.leaf.type === "keys" && both.leaf.store, "keyring");
  assert.equal(both.leaf.type === "keys" && both.leaf.accessKeyId, "AKIA2");
});

test("a store without awsmfa_access_key_id is a configuration error", () => {
  assert.throws(
    () => resolvePlan(set({ alice: { awsmfa_keys: "encrypted" } }), "alice"),
    (error: unknown) =>
      error instanceof AppError &&
      error.code === "partial-keys" &&
      error.message === "Profile 'alice' has awsmfa_keys = encrypted but no awsmfa_access_key_id.",
  );
});

test("below the selected profile, stored keys win over that profile's role, as static keys do", () => {
  const plan = resolvePlan(
    set({
      top: { role_arn: "arn:aws:iam::1:role/Top", source_profile: "middle" },
      middle: {
        role_arn: "arn:aws:iam::1:role/Middle",
        source_profile: "base",
        awsmfa_keys: "encrypted",
        awsmfa_access_key_id: "AKIAMIDDLE",
      },
      base: { aws_access_key_id: "AKIABASE", aws_secret_access_key: "s" },
    }),
    "top",
  );
  assert.equal(plan.leaf.profile, "middle");
  assert.equal(plan.roles.length, 1);
});
