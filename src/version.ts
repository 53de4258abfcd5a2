// The version shown by --version, the banner and /health.
import pkg from "../package.json";

export const VERSION: string = pkg.version;
