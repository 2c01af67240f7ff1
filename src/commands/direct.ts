// A bundle of its own, dist/awsmfa-direct.cjs (build.mjs): the commands that src/direct.ts runs
// without commander or the full bundle, the warm path's index miss (src/warm.ts), and only the
// modules they import.
export { runListProfiles } from "./completion-profiles";
export { runPlan } from "./plan";
export { runStatus } from "./status";
export { warmFromPlan } from "./warm-miss";
