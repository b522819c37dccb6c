export async function runCommand(): Promise<number> { return 2; }
