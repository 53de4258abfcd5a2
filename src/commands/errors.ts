// Errors are classes with a code and a status; each protocol maps them exactly once
// (envelope: Status/Results/Message; RESP: "-PREFIX message"; HTTP: the status code).

export type Status = 200 | 401 | 404 | 413 | 500 | 501;

export const RESULTS: Record<Status, string> = {
  200: "SUCCESS",
  401: "NOT_PASS",
  404: "NOT_FOUND",
  413: "ERROR",
  500: "ERROR",
  501: "UNKNOWN_COMMAND",
};

export class CommandError extends Error {
  constructor(
    readonly status: Status,
    message: string,
    /** the first word of the RESP error line */
    readonly respPrefix = "ERR",
  ) {
    super(message);
  }
}

export class UnknownCommandError extends CommandError {
  constructor(name: string, args: readonly string[] = []) {
    const shown = args.map((a) => `'${a}'`).join(" ");
    super(501, `unknown command '${name}', with args beginning with: ${shown}${shown ? " " : ""}`);
  }
}

export class ArityError extends CommandError {
  constructor(name: string) {
    super(500, `wrong number of arguments for '${name}' command`);
  }
}

export class NotAuthenticatedError extends CommandError {
  constructor() {
    super(401, "Authentication required.", "NOAUTH");
  }
}

export class InvalidArgumentError extends CommandError {
  constructor(message: string) {
    super(500, message);
  }
}
