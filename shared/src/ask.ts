/**
 * Waiting for a socket.io acknowledgement, with a deadline, on either end of any namespace.
 *
 * The call site sends with the socket's own typed `emitWithAck`, so the answer's type is the one
 * the event map in this package declares (`Ack<T>` as the event's last argument) and nothing is
 * cast. The deadline lives here rather than in socket.io-client's `timeout(ms)`: that flag types
 * every answer as `any` (its `FirstArg` does not skip the timeout's error argument, 4.8).
 * A lost connection ends the wait at once instead of at the deadline: the answer cannot come.
 */

/** An acknowledgement that cannot come: the socket went away while waiting for it. */
export class Disconnected extends Error {
  constructor() {
    super('the connection to the coordinator was lost');
  }
}

/** No acknowledgement within the deadline. */
export class AckTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** What `ask` needs of a socket: hearing it disconnect. Client and server sockets both fit. */
export interface AskSocket {
  once(event: 'disconnect', listener: () => void): unknown;
  off(event: 'disconnect', listener: () => void): unknown;
}

/**
 * Runs `send` (an `emitWithAck` on `socket`) and answers its acknowledgement, or rejects with
 * AckTimeout after `ms`, or with Disconnected when the socket drops first. An answer that
 * arrives after the deadline is dropped by socket.io-client on the next disconnect.
 */
export function ask<S extends AskSocket, T>(
  socket: S,
  ms: number,
  send: (socket: S) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      socket.off('disconnect', gone);
    };
    const gone = () => {
      finish();
      reject(new Disconnected());
    };
    const timer = setTimeout(() => {
      finish();
      reject(new AckTimeout(ms));
    }, ms);
    socket.once('disconnect', gone);
    send(socket).then(
      (answer) => {
        finish();
        resolve(answer);
      },
      (e) => {
        finish();
        reject(e);
      },
    );
  });
}
