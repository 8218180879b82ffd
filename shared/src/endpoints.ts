/**
 * A client's list of coordinator URLs (several processes sharing a store): one is current; on
 * failure or a redirect the client moves to another. One URL behaves as before.
 */
export class Endpoints {
  readonly urls: string[];
  private index = 0;

  constructor(urls: string | readonly string[]) {
    const list = (typeof urls === 'string' ? urls.split(',') : urls)
      .map((u) => u.trim().replace(/\/+$/, ''))
      .filter((u) => u.length > 0);
    // No URL at all: '' (relative to the page), as a single unset option always meant.
    this.urls = list.length > 0 ? [...new Set(list)] : [''];
  }

  get current(): string {
    return this.urls[this.index];
  }

  get several(): boolean {
    return this.urls.length > 1;
  }

  /** Moves to the next URL in the list (wrapping around) and returns it. */
  next(): string {
    this.index = (this.index + 1) % this.urls.length;
    return this.current;
  }

  /** Moves to `url` when it is in the list; false (staying put) otherwise. */
  moveTo(url: string): boolean {
    const i = this.urls.indexOf(url.trim().replace(/\/+$/, ''));
    if (i < 0) return false;
    this.index = i;
    return true;
  }
}
