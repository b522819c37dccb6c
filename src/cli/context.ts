/** What commands may touch of the outside world; the CLI entry builds it, tests can build their own. */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  cacheDir: string;
  isTTY: boolean;
  out(line: string): void;
  err(line: string): void;
}
