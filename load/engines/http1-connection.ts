import net from 'node:net';
import { HTTPParser } from 'http-parser-js';

/**
 * One keep-alive HTTP/1.1 connection that carries one request at a time, made for the open
 * model: a request is a buffer written to the socket and an answer is its status once the
 * whole message has arrived (the body is read and dropped, never kept). The parser is
 * http-parser-js, as autocannon uses it: a lean client keeps the server, not the generator,
 * the bottleneck. A closed socket is opened again on the next request.
 */
export class Http1Connection {
  readonly #host: string;
  readonly #port: number;
  #socket: net.Socket | undefined;
  /** The request in flight's callback: its status, or 0 and why it failed. */
  #pending: ((status: number, error?: Error) => void) | undefined;
  #status = 0;
  #closeAfter = false;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /**
   * Sends `method path`; `onAnswer` gets the answer's status once the whole message has
   * arrived, or 0 and the error when the connection failed or the request was aborted.
   */
  request(method: string, path: string, onAnswer: (status: number, error?: Error) => void): void {
    if (this.#pending) {
      onAnswer(0, new Error('a request is already in flight on this connection'));
      return;
    }
    const socket = this.#socket ?? this.#connect();
    this.#pending = onAnswer;
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\nContent-Length: 0\r\n\r\n`);
  }

  /** Aborts the request in flight (its callback gets 0 and `why`) and closes the socket. */
  abort(why = 'aborted'): void {
    this.#fail(new Error(why), true);
  }

  #connect(): net.Socket {
    const socket = net.connect(this.#port, this.#host);
    socket.setNoDelay(true);
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    parser[HTTPParser.kOnHeadersComplete] = (info: { statusCode: number; shouldKeepAlive: boolean }) => {
      this.#status = info.statusCode;
      this.#closeAfter = !info.shouldKeepAlive;
    };
    parser[HTTPParser.kOnBody] = () => {};
    parser[HTTPParser.kOnMessageComplete] = () => {
      const pending = this.#pending;
      this.#pending = undefined;
      if (this.#closeAfter) this.#drop();
      pending?.(this.#status);
    };
    // Events of a socket this connection has already let go are not its business any more.
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      const result = parser.execute(chunk);
      if (result instanceof Error) this.#fail(result, true);
    });
    socket.on('error', (error) => {
      if (this.#socket === socket) this.#fail(error, true);
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#fail(new Error('the server closed the connection'), false);
    });
    this.#socket = socket;
    return socket;
  }

  /** Fails the request in flight (if any) and forgets the socket; `destroy` also closes it. */
  #fail(error: Error, destroy: boolean): void {
    const socket = this.#socket;
    this.#drop();
    if (destroy) socket?.destroy();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.(0, error);
  }

  #drop(): void {
    if (this.#closeAfter) this.#socket?.end();
    this.#socket = undefined;
    this.#closeAfter = false;
  }
}
