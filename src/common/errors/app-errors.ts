/** Errors services throw for the API to answer with the matching 4xx; the filter maps them. */
export abstract class AppError extends Error {
  abstract readonly status: number;
  constructor(
    message: string,
    /** Problems per field, for forms to show next to the field they name. */
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundAppError extends AppError {
  readonly status = 404;
  static of(what: string, id: string): NotFoundAppError {
    return new NotFoundAppError(`${what} '${id}' was not found`);
  }
}

export class ValidationAppError extends AppError {
  readonly status = 400;
  constructor(problems: string[]) {
    super(problems.join('; '), problems);
  }
}

export class ConflictAppError extends AppError {
  readonly status = 409;
}
