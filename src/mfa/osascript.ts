import { askWithDialog, dialogText, programUnavailable } from "./dialog";
import { registerPrompt } from "./registry";

// The text arrives as an argument of the script, so no profile name needs AppleScript quoting.
// Cancel makes osascript exit 1 ("User canceled"), which askWithDialog reports as cancelled.
const SCRIPT = [
  "on run argv",
  'text returned of (display dialog (item 1 of argv) default answer "" with title "awsmfa")',
  "end run",
];

registerPrompt({
  name: "osascript",
  label: "osascript",
  kind: "typed",
  auto: { rank: 40, platforms: ["darwin"] },
  unavailable: (request, runtime) => programUnavailable("osascript", request, runtime),
  ask: (request, runtime) =>
    askWithDialog(
      "osascript",
      [...SCRIPT.flatMap((line) => ["-e", line]), dialogText(request)],
      request,
      runtime,
    ),
});
