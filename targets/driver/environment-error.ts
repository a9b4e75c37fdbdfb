/** A problem with the machine, not the plan, with the fix in its message: the CLI prints it and exits 3. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}
