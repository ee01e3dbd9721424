/**
 * Hides the password of every URL in a text (postgres://user:secret@host → postgres://user:***@host).
 * Logs, reports and `status` output go through this; only `up --json` and `exec`'s
 * environment carry real credentials, because they exist to hand them over.
 */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@\s]*)@/gi, '$1$2:***@');
}
