/**
 * JSON exactly as the aws CLI writes its token files: Python's `json.dumps` with its defaults —
 * `", "` and `": "` between items, every character outside printable ASCII as `\uXXXX`, one line,
 * no newline at the end. Written so, a file awsmfa refreshed differs from one the CLI refreshed
 * only in its values.
 */
export function pythonJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value).replace(
        /[\u007f-\uffff]/g,
        (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
      );
    case "number":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
      const items = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`);
      return `{${items.join(", ")}}`;
    }
    default:
      throw new TypeError(`not JSON: ${typeof value}`);
  }
}

/** `expiresAt` as the aws CLI writes it, to the second (`%Y-%m-%dT%H:%M:%SZ`); the SDKs add milliseconds. */
export function cliTimestamp(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}
