import { AppError } from "../errors";
import { noCodeSource, type Producer, type PromptMethod, promptMethods, registerSource } from "./registry";
import type { CodeRequest, Runtime } from "./types";

const AUTO = "auto";

registerSource({
  rank: 50,
  describe: () => ({
    how: "awsmfa_prompt = NAME",
    what: `in the profile, or AWSMFA_PROMPT: ${[...promptMethods().map((method) => method.name), AUTO].join(", ")} (default: terminal, when there is one)`,
  }),
  select(request, runtime) {
    const chosen = chosenPrompt(request);
    if (chosen === undefined) {
      // Nothing chosen: the terminal if there is one, else the caller reports that nothing applies.
      const terminal = promptMethods().find((method) => method.name === "terminal");
      return terminal && !terminal.unavailable(request, runtime) ? producer(terminal, runtime) : undefined;
    }
    if (chosen.name === AUTO) {
      const method = autoMethods(runtime).find((candidate) => !candidate.unavailable(request, runtime));
      if (method) return producer(method, runtime);
      const tried = autoMethods(runtime).map((candidate) => candidate.name);
      throw noCodeSource(
        request,
        `${chosen.origin} is "auto" but none of ${tried.join(", ")} can be used here`,
      );
    }
    const method = promptMethods().find((candidate) => candidate.name === chosen.name);
    if (method === undefined) {
      throw new AppError(
        "bad-prompt",
        `${chosen.origin} is "${chosen.name}", which is not a way to ask for a code.`,
        { hint: `Use one of: ${[...promptMethods().map((candidate) => candidate.name), AUTO].join(", ")}.` },
      );
    }
    const reason = method.unavailable(request, runtime);
    if (reason) throw noCodeSource(request, `${chosen.origin} is "${chosen.name}" but ${reason}`);
    return producer(method, runtime);
  },
});

/** The profile's choice first: it knows its device (a YubiKey profile says ykman); the variable is a default. */
function chosenPrompt(request: CodeRequest): { name: string; origin: string } | undefined {
  const fromProfile = request.properties.awsmfa_prompt?.trim();
  if (fromProfile) return { name: fromProfile.toLowerCase(), origin: "awsmfa_prompt" };
  const fromEnv = request.env.AWSMFA_PROMPT?.trim();
  if (fromEnv) return { name: fromEnv.toLowerCase(), origin: "AWSMFA_PROMPT" };
  return undefined;
}

function autoMethods(runtime: Runtime): PromptMethod[] {
  return promptMethods()
    .filter((method) => method.auto && (method.auto.platforms?.includes(runtime.platform) ?? true))
    .sort((a, b) => (a.auto?.rank ?? 0) - (b.auto?.rank ?? 0));
}

function producer(method: PromptMethod, runtime: Runtime): Producer {
  return {
    source: method.name,
    label: method.label,
    kind: method.kind,
    produce: (request) => method.ask(request, runtime),
  };
}
