/**
 * Leveled logging to stderr, shared by coordinator and worker (stdout of a worker is its
 * status channel, so nothing else may write there). A worker prefixes its lines `[W<i>]`.
 */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";
export const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const ORDER = LOG_LEVELS;

export class Logger {
  #min: number;
  constructor(level: LogLevel = "INFO", readonly prefix = "") {
    this.#min = ORDER.indexOf(level);
  }
  #write(level: LogLevel, message: string) {
    if (ORDER.indexOf(level) < this.#min) return;
    const tag = level === "INFO" ? "" : `${level}: `;
    console.error(`${this.prefix}${tag}${message}`);
  }
  debug(message: string) {
    this.#write("DEBUG", message);
  }
  info(message: string) {
    this.#write("INFO", message);
  }
  warn(message: string) {
    this.#write("WARNING", message);
  }
  error(message: string) {
    this.#write("ERROR", message);
  }
}
