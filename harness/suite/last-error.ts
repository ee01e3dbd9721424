/**
 * The last error a suite's load saw, kept for a failing verdict's evidence: one failed
 * request's message tells a reader more than a count of failures does.
 */
export class LastError {
  message = '';

  /** `last error: …`, or undefined when no request failed. */
  get evidence(): string | undefined {
    return this.message ? `last error: ${this.message}` : undefined;
  }
}
