/** Where in a user's file a problem is, so every message can start with `file:line:col`. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
}

/**
 * An error the user can fix. The CLI prints it as `file:line:col: message` and exits non-zero
 * without a stack trace; anything that is not a UserError is a bug in pipeline itself.
 */
export class UserError extends Error {
  readonly location: SourceLocation | undefined;
  readonly exitCode: number;

  constructor(message: string, location?: SourceLocation, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.location = location;
    this.exitCode = exitCode;
  }

  format(): string {
    const where = this.location ? formatLocation(this.location) + ': ' : '';
    return where + this.message;
  }
}

export function formatLocation(location: SourceLocation): string {
  let text = location.file;
  if (location.line !== undefined) {
    text += `:${location.line}`;
    if (location.col !== undefined) text += `:${location.col}`;
  }
  return text;
}

/** Raised when a stage's command fails; carries what the terminal needs to explain it. */
export class StageFailedError extends Error {
  constructor(
    readonly stageId: string,
    readonly detail: string,
    readonly logTail: string[],
    readonly exitCode: number | undefined,
  ) {
    super(`stage ${stageId} failed: ${detail}`);
    this.name = 'StageFailedError';
  }
}
