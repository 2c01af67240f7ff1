import { codeQuestion, registerPrompt } from "./registry";

registerPrompt({
  name: "terminal",
  label: "the terminal",
  kind: "typed",
  auto: { rank: 10 },
  unavailable: (_request, runtime) =>
    runtime.terminal.canOpen() ? undefined : "there is no terminal to ask on",
  ask: (request, runtime) =>
    runtime.terminal.ask(
      request.notice ? `${request.notice}\n${codeQuestion(request)}` : codeQuestion(request),
    ),
});
