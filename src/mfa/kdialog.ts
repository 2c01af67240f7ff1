import { askWithDialog, dialogText, dialogTitle, graphicalUnavailable } from "./dialog";
import { registerPrompt } from "./registry";

registerPrompt({
  name: "kdialog",
  label: "kdialog",
  kind: "typed",
  auto: { rank: 30 },
  unavailable: (request, runtime) => graphicalUnavailable("kdialog", request, runtime),
  ask: (request, runtime) =>
    askWithDialog(
      "kdialog",
      ["--title", dialogTitle(request), "--inputbox", dialogText(request)],
      request,
      runtime,
    ),
});
