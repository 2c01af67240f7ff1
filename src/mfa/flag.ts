import { registerSource, tokenCodeHint } from "./registry";

registerSource({
  rank: 10,
  describe: (request) => tokenCodeHint(request, "123456", "the code on the command line"),
  select(request) {
    const code = request.tokenCode;
    if (code === undefined || code === "-") return undefined;
    return { source: "token-code", label: "--token-code", kind: "given", produce: async () => code };
  },
});
