// Types of web/build.mjs for the TypeScript callers (tests build the UI into a directory of their own).
import type * as esbuild from 'esbuild';

export function buildWebUi(compiler: typeof esbuild, outdir: string): Promise<string[]>;

export function webDocuments(compiler: typeof esbuild): Promise<Record<string, string>>;
