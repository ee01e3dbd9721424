import net from 'node:net';
import { HTTPParser } from 'http-parser-js';

/**
 * Gets a request's answer: its status once the whole message has arrived (and its headers,
 * raw: `[name, value, …]` as the parser gave them, kept by reference, never copied), or 0
 * and the error.
 */
export type Http1Answer = (status: number, error?: Error, rawHeaders?: readonly string[]) => void;

/** A request in flight: what to send again on a fresh socket, and who gets the answer. */
interface InFlight {
  request: string;
  onAnswer: Http1Answer;
  /** Whether any byte of its answer has arrived: before that, a reused socket's failure is the socket's, not the server's answer. */
  answered: boolean;
  /** Whether it was sent on a socket that had already carried an answer (a keep-alive socket the server may have closed meanwhile). */
  reused: boolean;
  /** Already sent again once on a fresh socket. */
  retried: boolean;
}

/**
 * One keep-alive HTTP/1.1 connection that carries one request at a time, made for the open
 * model: a request is a string written to the socket and an answer is its status once the
 * whole message has arrived (the body is read and dropped, never kept). The parser is
 * http-parser-js, as autocannon uses it: a lean client keeps the server, not the generator,
 * the bottleneck. A closed socket is opened again on the next request; a request that fails
 * on a reused socket before any byte of its answer (the server closed an idle keep-alive
 * socket as it was written) is sent once more on a fresh one, as browsers and undici do.
 */
export class Http1Connection {
  readonly #host: string;
  readonly #port: number;
  /** The Host header: an IPv6 address keeps its brackets there, and only there. */
  readonly #hostHeader: string;
  #socket: net.Socket | undefined;
  /** Whether the current socket has carried a whole answer. */
  #socketUsed = false;
  #inFlight: InFlight | undefined;
  #status = 0;
  #headers: readonly string[] = [];
  #closeAfter = false;

  constructor(host: string, port: number) {
    this.#host = host.replace(/^\[(.*)\]$/, '$1');
    this.#port = port;
    this.#hostHeader = `${host}:${port}`;
  }

  /**
   * Sends `method path`; `onAnswer` gets the answer's status (and headers) once the whole
   * message has arrived, or 0 and the error when the connection failed or the request was aborted.
   */
  request(method: string, path: string, onAnswer: Http1Answer): void {
    if (this.#inFlight) {
      onAnswer(0, new Error('a request is already in flight on this connection'));
      return;
    }
    const request = `${method} ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\nContent-Length: 0\r\n\r\n`;
    this.#send({ request, onAnswer, answered: false, reused: false, retried: false });
  }

  /** Aborts the request in flight (its callback gets 0 and `why`) and closes the socket. */
  abort(why = 'aborted'): void {
    this.#fail(new Error(why), true);
  }

  #send(inFlight: InFlight): void {
    const socket = this.#socket ?? this.#connect();
    inFlight.reused = this.#socketUsed;
    this.#inFlight = inFlight;
    socket.write(inFlight.request);
  }

  #connect(): net.Socket {
    const socket = net.connect(this.#port, this.#host);
    socket.setNoDelay(true);
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    // Events of a socket (or its parser) this connection has already let go are not its business any more.
    const current = () => this.#socket === socket;
    parser[HTTPParser.kOnHeadersComplete] = (info: {
      statusCode: number;
      shouldKeepAlive: boolean;
      headers: string[];
    }) => {
      if (!current()) return;
      this.#status = info.statusCode;
      this.#headers = info.headers;
      this.#closeAfter = !info.shouldKeepAlive;
    };
    parser[HTTPParser.kOnBody] = () => {};
    parser[HTTPParser.kOnMessageComplete] = () => {
      // An interim answer (103 Early Hints, 100 Continue) is not the answer.
      if (!current() || (this.#status >= 100 && this.#status < 200)) return;
      const inFlight = this.#inFlight;
      this.#inFlight = undefined;
      this.#socketUsed = true;
      if (this.#closeAfter) this.#drop();
      inFlight?.onAnswer(this.#status, undefined, this.#headers);
    };
    socket.on('data', (chunk: Buffer) => {
      if (!current()) return;
      if (this.#inFlight) this.#inFlight.answered = true;
      const result = parser.execute(chunk);
      if (result instanceof Error) this.#fail(result, true);
    });
    socket.on('error', (error) => {
      if (current()) this.#failOrRetry(error);
    });
    // The server closed the socket: an answer whose body runs to the close ends here.
    socket.on('end', () => {
      if (!current()) return;
      if (this.#inFlight?.answered) parser.finish();
      if (current()) this.#failOrRetry(new Error('the server closed the connection'));
    });
    socket.on('close', () => {
      if (current()) this.#failOrRetry(new Error('the server closed the connection'));
    });
    this.#socket = socket;
    this.#socketUsed = false;
    return socket;
  }

  /** A socket failure: the request goes again once on a fresh socket if the failure was the stale socket's, else it fails. */
  #failOrRetry(error: Error): void {
    const inFlight = this.#inFlight;
    if (inFlight?.reused && !inFlight.answered && !inFlight.retried) {
      this.#socket?.destroy();
      this.#drop();
      this.#send({ ...inFlight, retried: true });
      return;
    }
    if (!inFlight) {
      // An idle socket closed by the server: the next request opens a new one.
      this.#socket?.destroy();
      this.#drop();
      return;
    }
    this.#fail(error, true);
  }

  /** Fails the request in flight (if any) and forgets the socket; `destroy` also closes it. */
  #fail(error: Error, destroy: boolean): void {
    const socket = this.#socket;
    this.#drop();
    if (destroy) socket?.destroy();
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    inFlight?.onAnswer(0, error);
  }

  #drop(): void {
    if (this.#closeAfter) this.#socket?.end();
    this.#socket = undefined;
    this.#socketUsed = false;
    this.#closeAfter = false;
  }
}
