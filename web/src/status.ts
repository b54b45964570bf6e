/// <reference lib="dom" />
/** "N tuned in": the server's listener count, polled while this guest listens. */

export interface ListenerCountOptions {
  /** Status endpoint answering `{"total_clients": n}`. Default: "/api/status". */
  url?: string;
  /** Poll period. Default: 10 000 ms, as the reference page. */
  intervalMs?: number;
}

export class ListenerCount {
  #element: HTMLElement;
  #url: string;
  #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #inFlight: AbortController | undefined;

  constructor(element: HTMLElement, options: ListenerCountOptions = {}) {
    this.#element = element;
    this.#url = options.url ?? "/api/status";
    this.#intervalMs = options.intervalMs ?? 10_000;
  }

  /** Fetch now and then every interval; a second call only fetches now. */
  start(): void {
    this.#timer ??= setInterval(() => this.refresh(), this.#intervalMs);
    this.refresh();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
    this.#element.hidden = true;
  }

  /** Fetch now; the newest answer wins and an older one still in flight is dropped. */
  refresh(): void {
    this.#inFlight?.abort();
    const request = new AbortController();
    this.#inFlight = request;
    fetchCount(this.#url, request.signal).then(
      (count) => {
        if (request.signal.aborted) return;
        this.#element.textContent = `${count} tuned in`;
        this.#element.hidden = false;
      },
      (error) => {
        if (request.signal.aborted) return;
        console.warn("Cannot read the listener count:", error);
        this.#element.hidden = true;
      },
    );
  }
}

async function fetchCount(url: string, signal: AbortSignal): Promise<number> {
  const response = await fetch(url, { cache: "no-store", signal });
  if (!response.ok) throw new Error(`Cannot read ${url}: status ${response.status}`);
  const count = (await response.json())?.total_clients;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`Cannot use total_clients as a count: value is ${count}`);
  }
  return count;
}
