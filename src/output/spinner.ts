import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";

/**
 * A spinner on stderr for exactly the time awsmfa waits on AWS: it watches Node's HTTP client
 * (diagnostics_channel), so it turns only while a request is in flight, and the line is gone
 * again before anything else can be written (an MFA prompt on the terminal, a message). It is
 * shown only to a person: stderr a terminal, NO_COLOR unset, TERM not dumb. Commands whose
 * output a program reads (credential-process, env) never start one.
 */

export interface Spinner {
  /** Erases the line now (it comes back on the next tick if a request is still in flight). */
  clear(): void;
  /** Erases the line and stops watching; safe to call twice. */
  stop(): void;
}

const LABEL = "Waiting for AWS…";

export interface SpinnerOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  /** No frame before a request has been in flight this long: fast answers do not flicker. */
  delayMs?: number;
  intervalMs?: number;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ASCII_FRAMES = ["-", "\\", "|", "/"];
const CLEAR_LINE = "\r\x1b[2K";
const REQUEST_START = "http.client.request.start";
const RESPONSE_FINISH = "http.client.response.finish";

/** Whether a spinner or colours may be drawn on `stream`: a terminal, and neither NO_COLOR nor TERM=dumb. */
export function decorationsAllowed(
  stream: { isTTY?: boolean } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return true;
}

const NO_SPINNER: Spinner = { clear() {}, stop() {} };

/** Spins while any HTTP request of this process is in flight, until stop(). */
export function spinWhileWaiting(options: SpinnerOptions = {}): Spinner {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (!decorationsAllowed(stream, env)) return NO_SPINNER;
  const delayMs = options.delayMs ?? 150;
  const frames =
    /UTF-?8/i.test(`${env.LC_ALL ?? ""}${env.LC_CTYPE ?? ""}${env.LANG ?? ""}`) ||
    process.platform === "win32"
      ? FRAMES
      : ASCII_FRAMES;

  const inFlight = new Set<ClientRequest>();
  let busySince = 0;
  let drawn = false;
  let frame = 0;
  let stopped = false;

  const erase = () => {
    if (!drawn) return;
    drawn = false;
    stream.write(CLEAR_LINE);
  };
  const draw = () => {
    if (stopped || inFlight.size === 0 || Date.now() - busySince < delayMs) return;
    frame = (frame + 1) % frames.length;
    stream.write(`${CLEAR_LINE}${frames[frame]} ${LABEL}`);
    drawn = true;
  };
  const settle = (request: ClientRequest) => {
    if (!inFlight.delete(request)) return;
    // Nothing in flight: off the screen at once, so that a prompt or message that follows is clean.
    if (inFlight.size === 0) erase();
  };
  const onStart = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    if (!request || stopped) return;
    if (inFlight.size === 0) busySince = Date.now();
    inFlight.add(request);
    request.once("close", () => settle(request));
    request.once("error", () => settle(request));
  };
  const onFinish = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    if (request) settle(request);
  };

  subscribe(REQUEST_START, onStart);
  subscribe(RESPONSE_FINISH, onFinish);
  const timer = setInterval(draw, options.intervalMs ?? 80);
  timer.unref();

  return {
    clear: erase,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      unsubscribe(REQUEST_START, onStart);
      unsubscribe(RESPONSE_FINISH, onFinish);
      inFlight.clear();
      erase();
    },
  };
}
