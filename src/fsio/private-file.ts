/**
 * Files that hold secrets (the session cache, the encrypted store) are trusted only when they are
 * ours and nobody else may read or write them: one someone else owns or may write may have been
 * planted. Each caller words the refusal for its own file.
 */
export type PrivacyProblem = { otherOwner: number } | { openMode: number } | undefined;

export function privacyProblem(stat: { mode: number; uid: number }): PrivacyProblem {
  if (process.platform === "win32") return undefined;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return { otherOwner: stat.uid };
  if ((stat.mode & 0o077) !== 0) return { openMode: stat.mode & 0o777 };
  return undefined;
}
