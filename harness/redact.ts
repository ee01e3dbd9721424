/**
 * Hides passwords in a text: the password of every URL (postgres://user:secret@host →
 * postgres://user:***@host), key=value forms (`password=…`, `PGPASSWORD=…`,
 * `"password":"…"`), and every password this process generated, wherever it appears (an
 * app may echo its credentials in any shape). Logs, reports, results and `status` output
 * go through this; only `up --json` and `exec`'s environment carry real credentials,
 * because they exist to hand them over.
 */
export function redact(text: string): string {
  let hidden = text;
  for (const secret of secrets) hidden = hidden.split(secret).join('***');
  return hidden
    .replace(URL_PASSWORD, '$1$2:***@')
    .replace(KEY_VALUE, (_, key: string, value: string) => `${key}${maskKeepingQuotes(value)}`)
    .replace(SQL_PASSWORD, (_, key: string, value: string) => `${key}${maskKeepingQuotes(value)}`);
}

/** A copy of `value` with every string in it redacted: results and printed JSON go through this. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  return value;
}

/**
 * A password this process made (generatePassword registers each): redact() replaces it
 * anywhere. Short strings are refused: masking them would mangle ordinary text.
 */
export function registerSecret(secret: string): void {
  if (secret.length < 8) return;
  secrets.add(secret);
  secrets.add(encodeURIComponent(secret));
}

const secrets = new Set<string>();

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@\s]*)@/gi;

// The key (PGPASSWORD, db_password, "password", \"password\" inside a JSON string), `=` or
// `:`, then the value: escaped-quoted, quoted, or bare up to a separator.
const KEY_VALUE =
  /(\b\w*(?:password|passwd)\\?["']?\s*[:=]\s*)(\\"(?:[^"\\]|\\[^"])*\\"|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'&;,}\\]+)/gi;

// SQL's own forms: CREATE/ALTER ROLE … [ENCRYPTED] PASSWORD '…', and a foreign server's OPTIONS (password '…').
const SQL_PASSWORD = /(\bpassword\s+)('(?:[^']|'')*'|\$\w*\$[\s\S]*?\$\w*\$)/gi;

const maskKeepingQuotes = (value: string) => {
  const quote = /^\\?["']/.exec(value)?.[0] ?? '';
  return `${quote}***${quote}`;
};
