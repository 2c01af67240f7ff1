import { basename } from "node:path";
import { AppError } from "../errors";
import type { SessionCredentials } from "../sts/credentials";

export const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
export type Shell = (typeof SHELLS)[number];

/** Variable → value; undefined means the variable is cleared. */
export type Variables = Record<string, string | undefined>;

/** What `env` and `exec` set: the session, its expiry, the region when known, and no profile. */
export function credentialVariables(credentials: SessionCredentials, region: string | undefined): Variables {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: credentials.expiration,
    ...(region ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
    // A profile left set would make tools resolve it again instead of using these keys.
    AWS_PROFILE: undefined,
    AWS_DEFAULT_PROFILE: undefined,
  };
}

export function shellFromEnv(env: NodeJS.ProcessEnv, platform = process.platform): Shell {
  const name = basename(env.SHELL ?? "").replace(/\.exe$/i, "");
  if (name === "fish" || name === "zsh" || name === "bash") return name;
  if (name === "pwsh" || name === "powershell") return "powershell";
  return platform === "win32" && !env.SHELL ? "powershell" : "bash";
}

export function parseShell(name: string): Shell {
  const shell = name === "pwsh" ? "powershell" : name;
  if ((SHELLS as readonly string[]).includes(shell)) return shell as Shell;
  throw new AppError("bad-shell", `Unknown shell '${name}'.`, { hint: `Use one of: ${SHELLS.join(", ")}.` });
}

/** Lines to `eval` in the given shell; every value quoted so that nothing in it is interpreted. */
export function shellLines(variables: Variables, shell: Shell): string {
  const lines = Object.entries(variables).map(([name, value]) =>
    value === undefined ? unsetLine(name, shell) : setLine(name, value, shell),
  );
  return `${lines.join("\n")}\n`;
}

function setLine(name: string, value: string, shell: Shell): string {
  switch (shell) {
    case "bash":
    case "zsh":
      return `export ${name}=${posixQuote(value)}`;
    case "fish":
      return `set -gx ${name} ${fishQuote(value)};`;
    case "powershell":
      return `$Env:${name} = ${powershellQuote(value)}`;
  }
}

function unsetLine(name: string, shell: Shell): string {
  switch (shell) {
    case "bash":
    case "zsh":
      return `unset ${name}`;
    case "fish":
      return `set -e ${name};`;
    case "powershell":
      return `Remove-Item Env:${name} -ErrorAction SilentlyContinue`;
  }
}

/** Single quotes keep everything literal in sh, bash and zsh; a quote itself is closed, escaped, reopened. */
export function posixQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** In fish single quotes, only \\ and \' are special. */
export function fishQuote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** In PowerShell single quotes, only the quote is special (doubled); curly quotes count as quotes too. */
function powershellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, "$&$&")}'`;
}
