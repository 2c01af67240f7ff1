import { askWithDialog, dialogText, programUnavailable } from "./dialog";
import { registerPrompt } from "./registry";

// The text comes through the environment so that nothing needs PowerShell quoting. InputBox
// returns "" for Cancel; exit 1 makes that a cancellation like every other dialog's.
const SCRIPT = [
  "Add-Type -AssemblyName Microsoft.VisualBasic;",
  "$c = [Microsoft.VisualBasic.Interaction]::InputBox($env:AWSMFA_DIALOG_TEXT, 'awsmfa');",
  "if ($c -eq '') { exit 1 };",
  "[Console]::Out.Write($c)",
].join(" ");

registerPrompt({
  name: "powershell",
  label: "powershell",
  kind: "typed",
  auto: { rank: 50, platforms: ["win32"] },
  unavailable: (request, runtime) => programUnavailable("powershell", request, runtime),
  ask: (request, runtime) =>
    askWithDialog("powershell", ["-NoProfile", "-NonInteractive", "-Command", SCRIPT], request, runtime, {
      AWSMFA_DIALOG_TEXT: dialogText(request),
    }),
});
