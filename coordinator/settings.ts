/**
 * The serve settings file, `~/.config/sendspin/settings-serve.json`, as the Python
 * reference writes it. Reading it never fails the start: problems become warnings.
 */

/** The keys of the settings file that `sendspin serve` reads; values are type-checked only. */
export interface Settings {
  name?: string;
  log_level?: string;
  listen_port?: number;
  source?: string;
  source_format?: string;
  clients?: string[];
}

/** Where the settings file lives, as shown to users. */
export const SETTINGS_PATH_HINT = "~/.config/sendspin/settings-serve.json";

const SETTINGS_RELATIVE_PATH = ".config/sendspin/settings-serve.json";

export interface ReadSettingsOptions {
  /** The home directory; default `$HOME` (or `%USERPROFILE%`). Without one: no settings. */
  home?: string;
  /** Reads a whole text file; default `Deno.readTextFileSync`. Must throw `Deno.errors.NotFound` for a missing file. */
  readTextFile?: (path: string) => string;
}

export interface ReadSettingsResult {
  settings: Settings;
  /** One line each, for the caller to log as warnings. */
  warnings: string[];
}

type Check = (value: unknown) => boolean;
const isString: Check = (value) => typeof value === "string";
const isNumber: Check = (value) => typeof value === "number" && Number.isFinite(value);
const isStringList: Check = (value) =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

const KEYS: Record<keyof Settings, { check: Check; expected: string }> = {
  name: { check: isString, expected: "a string" },
  log_level: { check: isString, expected: "a string" },
  listen_port: { check: isNumber, expected: "a number" },
  source: { check: isString, expected: "a string" },
  source_format: { check: isString, expected: "a string" },
  clients: { check: isStringList, expected: "a list of strings" },
};

/**
 * Reads the serve settings file. A missing file gives `{}` silently. Unreadable or broken
 * JSON gives `{}` and a warning; a key of the wrong type is left out with a warning.
 * `null` and `""` mean "not set" (the reference saves unset keys as `null`), and unknown
 * keys are ignored. A `source` starting with `~/` is expanded to the home directory.
 * Never throws.
 */
export function readSettings(options: ReadSettingsOptions = {}): ReadSettingsResult {
  let home: string | undefined;
  try {
    home = options.home ?? Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  } catch (error) {
    return { settings: {}, warnings: [`Cannot find the settings file: ${describe(error)}`] };
  }
  if (!home) return { settings: {}, warnings: [] };
  home = home.replace(/[\\/]+$/, "");

  const path = `${home}/${SETTINGS_RELATIVE_PATH}`;
  const readTextFile = options.readTextFile ?? Deno.readTextFileSync;
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { settings: {}, warnings: [] };
    return {
      settings: {},
      warnings: [`Cannot read settings file ${path}: ${describe(error)}; using defaults`],
    };
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return {
      settings: {},
      warnings: [`Settings file ${path} is not valid JSON (${describe(error)}); using defaults`],
    };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return {
      settings: {},
      warnings: [`Settings file ${path} must hold a JSON object; using defaults`],
    };
  }

  const settings: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const [key, { check, expected }] of Object.entries(KEYS)) {
    const value = (data as Record<string, unknown>)[key];
    if (value === undefined || value === null || value === "") continue;
    if (check(value)) {
      settings[key] = value;
    } else {
      warnings.push(
        `Settings file ${path}: "${key}" must be ${expected} (got ${
          JSON.stringify(value)
        }); ignored`,
      );
    }
  }
  const source = settings.source as string | undefined;
  if (source?.startsWith("~/")) settings.source = `${home}${source.slice(1)}`;
  return { settings: settings as Settings, warnings };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
