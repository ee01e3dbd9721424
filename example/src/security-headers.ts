import type http from 'node:http';

/**
 * The headers every answer of the reference app carries, whatever its status (what the
 * Mozilla HTTP Observatory grades): HSTS, a CSP that allows nothing (the JSON API loads no
 * resource; the page allows its one script by nonce), no sniffing, no framing, no referrer.
 * Node's server adds no `Server` or `X-Powered-By`.
 *
 * `EXAMPLE_HEADERS=success-only` (or EXAMPLE_NAIVE=1) sets them only on 2xx answers, as a
 * middleware that runs after the router does: the 404, 429 and 500 pages go out bare.
 */
export const headersOnSuccessOnly = process.env.EXAMPLE_HEADERS === 'success-only' || process.env.EXAMPLE_NAIVE === '1';

export const API_POLICY = "default-src 'none'; frame-ancestors 'none'";

export function setSecurityHeaders(response: http.ServerResponse, policy = API_POLICY): void {
  response.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
  response.setHeader('content-security-policy', policy);
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('referrer-policy', 'no-referrer');
}
