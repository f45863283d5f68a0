/** Types of ./wrap.mjs (plain JavaScript, shared with the sandbox thread). */
export declare const FILE_NAME: string;
export declare function wrapSource(source: string): string;
export declare function sourceLine(source: string, lineOrStack: unknown): number | undefined;
