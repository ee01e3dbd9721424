/**
 * The security-header rules, modelled on what the Mozilla HTTP Observatory grades. Each
 * reads one response's headers and says what is wrong with them, or nothing.
 */
export const RULES = {
  hsts: 'Strict-Transport-Security with max-age of at least 180 days',
  csp: "Content-Security-Policy present, without 'unsafe-inline' or 'unsafe-eval'",
  nosniff: 'X-Content-Type-Options: nosniff',
  framing: 'X-Frame-Options DENY or SAMEORIGIN, or CSP frame-ancestors',
  referrer: 'Referrer-Policy no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin',
  leaks: 'no X-Powered-By, X-AspNet-Version or a version in Server',
  cookies: 'every cookie Secure, HttpOnly and SameSite',
} as const;

export type RuleName = keyof typeof RULES;

const HALF_YEAR_S = 15_552_000;
const SAFE_REFERRERS = new Set(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin']);

const checks: Record<RuleName, (headers: Headers) => string | undefined> = {
  hsts(headers) {
    const value = headers.get('strict-transport-security');
    if (!value) return 'no Strict-Transport-Security';
    const maxAge = Number(/max-age=(\d+)/i.exec(value)?.[1] ?? Number.NaN);
    return maxAge >= HALF_YEAR_S ? undefined : `Strict-Transport-Security max-age below 180 days: ${value}`;
  },
  csp(headers) {
    const value = headers.get('content-security-policy');
    if (!value) return 'no Content-Security-Policy';
    const unsafe = /'unsafe-(inline|eval)'/i.exec(value);
    return unsafe ? `Content-Security-Policy allows ${unsafe[0]}` : undefined;
  },
  nosniff: (headers) =>
    headers.get('x-content-type-options')?.trim().toLowerCase() === 'nosniff'
      ? undefined
      : 'no X-Content-Type-Options: nosniff',
  framing(headers) {
    const frame = headers.get('x-frame-options')?.trim().toUpperCase();
    if (frame === 'DENY' || frame === 'SAMEORIGIN') return undefined;
    return /frame-ancestors/i.test(headers.get('content-security-policy') ?? '')
      ? undefined
      : 'no X-Frame-Options or CSP frame-ancestors';
  },
  referrer(headers) {
    const value = headers.get('referrer-policy');
    if (!value) return 'no Referrer-Policy';
    // A list: the browser uses the last one it knows.
    const last = value.split(',').pop()!.trim().toLowerCase();
    return SAFE_REFERRERS.has(last) ? undefined : `Referrer-Policy ${value}`;
  },
  leaks(headers) {
    for (const name of ['x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version']) {
      const value = headers.get(name);
      if (value) return `${name}: ${value}`;
    }
    const server = headers.get('server');
    return server && /\d/.test(server) ? `Server: ${server}` : undefined;
  },
  cookies(headers) {
    for (const cookie of headers.getSetCookie()) {
      const attributes = cookie.split(';').map((a) => a.trim().toLowerCase());
      const missing = [
        attributes.includes('secure') ? '' : 'Secure',
        attributes.includes('httponly') ? '' : 'HttpOnly',
        attributes.some((a) => a.startsWith('samesite=')) ? '' : 'SameSite',
      ].filter(Boolean);
      if (missing.length > 0) return `cookie ${cookie.split('=')[0]} without ${missing.join(', ')}`;
    }
    return undefined;
  },
};

/** What each of `rules` finds wrong with one response's headers (rules that hold are absent). */
export function breaches(headers: Headers, rules: readonly RuleName[]): Partial<Record<RuleName, string>> {
  const found: Partial<Record<RuleName, string>> = {};
  for (const rule of rules) {
    const problem = checks[rule](headers);
    if (problem) found[rule] = problem;
  }
  return found;
}
