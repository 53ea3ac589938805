#!/usr/bin/env node
// Runs the command line from the TypeScript sources through tsx, for tests and development;
// the installed `tagraph` is the compiled dist/cli.js.
import { register } from 'tsx/esm/api';

register();
const { runProcess } = await import('./main.ts');
await runProcess();
