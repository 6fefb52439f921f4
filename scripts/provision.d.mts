// Types of scripts/provision.mjs (plain JavaScript, run by Node without a build step), for
// test/unit/provision.test.ts: tsconfig.json does not check JavaScript.

/** What probeMachine() finds; planProvision() decides from it alone. */
export interface Facts {
  readonly present: {
    readonly postgres: boolean;
    readonly pgBasebackup: boolean;
    readonly redisServer: boolean;
    readonly curl: boolean;
    readonly jq: boolean;
    readonly chromium: boolean;
    /** Both `prometheus` and `promtool` on the PATH (Debian's `prometheus` package). */
    readonly prometheus: boolean;
  };
  /** The installed PostgreSQL's major version (server, else client), if any. */
  readonly pgMajor: number | undefined;
  readonly databaseUrlGiven: boolean;
  readonly redisUrlGiven: boolean;
  readonly root: boolean;
  readonly aptGet: boolean;
}

export interface Missing {
  readonly name: string;
  readonly package: string;
  readonly why: string;
}

export type Plan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly packages: string[]; readonly reasons: string[] }
  | { readonly action: 'stop'; readonly message: string };

export declare const CHROMIUM_PATH: string;
export declare function missingRequirements(facts: Facts): Missing[];
export declare function planProvision(facts: Facts): Plan;
export declare function probeMachine(env?: NodeJS.ProcessEnv): Facts;
export declare function provision(env?: NodeJS.ProcessEnv): void;
