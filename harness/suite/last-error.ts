/**
 * The last error a suite's load saw, kept for a failing verdict's evidence: one failed
 * request's message tells a reader more than a count of failures does.
 */
export class LastError {
  message = '';

  /** Records the error and throws it again, so the load still counts the request as failed. */
  readonly rethrow = (error: Error): never => {
    this.message = error.message;
    throw error;
  };

  /** `last error: …`, or undefined when no request failed. */
  get evidence(): string | undefined {
    return this.message ? `last error: ${this.message}` : undefined;
  }
}
