// The program's version, reported by `--version` and in `hello`.
export const VERSION = '0.1.0';
