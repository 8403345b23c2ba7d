/** Where in a user's file a problem is, so every message can start with `file:line:col`. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
}

/** A location, or a way to compute it when an error is actually shown. */
export type Where = SourceLocation | (() => SourceLocation);

/**
 * An error the user can fix. The CLI prints it as `file:line:col: message` and exits non-zero
 * without a stack trace; anything that is not a UserError is a bug in pipeline itself.
 */
export class UserError extends Error {
  readonly exitCode: number;
  private where: Where | undefined;

  constructor(message: string, where?: Where, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.where = where;
    this.exitCode = exitCode;
  }

  /** Resolved on first use: locating a YAML node costs a position-keeping parse, paid only on error. */
  get location(): SourceLocation | undefined {
    if (typeof this.where === 'function') this.where = this.where();
    return this.where;
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
