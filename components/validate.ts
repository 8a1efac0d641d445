/**
 * Argument checks shared by the components. Each throws an error that names the component, the argument, the value
 * and what is allowed, so a wrong value fails at `pulumi preview` with a message a person can act on.
 */

export class ArgumentError extends Error {
  constructor(component: string, arg: string, value: unknown, allowed: string) {
    super(`${component}: ${arg} must be ${allowed}, got ${JSON.stringify(value)}`);
    this.name = "ArgumentError";
  }
}

export function requireOneOf<T extends string>(
  component: string,
  arg: string,
  value: string,
  allowed: readonly T[],
): asserts value is T {
  if (!(allowed as readonly string[]).includes(value))
    throw new ArgumentError(component, arg, value, `one of ${allowed.join(", ")}`);
}

export function requireRange(component: string, arg: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentError(component, arg, value, `an integer from ${min} to ${max}`);
  }
}

export function requireMatch(component: string, arg: string, value: string, re: RegExp, what: string): void {
  if (!re.test(value)) throw new ArgumentError(component, arg, value, what);
}
