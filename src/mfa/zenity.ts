import { askWithDialog, dialogText, dialogTitle, graphicalUnavailable } from "./dialog";
import { registerPrompt } from "./registry";

registerPrompt({
  name: "zenity",
  label: "zenity",
  kind: "typed",
  auto: { rank: 20 },
  unavailable: (request, runtime) => graphicalUnavailable("zenity", request, runtime),
  ask: (request, runtime) =>
    askWithDialog(
      "zenity",
      ["--entry", `--title=${dialogTitle(request)}`, `--text=${escapeMarkup(dialogText(request))}`],
      request,
      runtime,
    ),
});

/** zenity reads --text as Pango markup: a profile named "a&b" would otherwise break the dialog. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
